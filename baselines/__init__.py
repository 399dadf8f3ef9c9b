"""Baseline pruning methods (paper Table 1); each module registers its method in
`tasray.methods.METHODS` (listed in `tasray.methods.registry.BUILTIN_MODULES`)."""
