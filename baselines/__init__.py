"""Baseline pruning methods (paper Table 1), registered in `tasray.methods.METHODS` on import."""

from baselines import fixed_ratio, random_search

__all__ = ["fixed_ratio", "random_search"]
