"""TAS (paper Sec. 3.1) and its width-only and depth-only variants (Table 1's "TAS (W)", "TAS (D)")."""

from __future__ import annotations

from functools import partial

from tasray.engine.jobs import SearchJob
from tasray.methods.context import MethodContext, MethodResult
from tasray.methods.registry import Method, register_method


def search(context: MethodContext, variant: str) -> MethodResult:
    """Run the search of `variant` on the trial's settings and cost; keep its selected architecture."""
    exp = context.experiment
    job = SearchJob.of(context.full_spec, exp.search, exp.data, exp.seed, cost=context.cost, variant=variant)
    result = context.runner.run(job)
    return MethodResult(
        result.spec, None, result.seconds, result.history, result.selected_epoch, result.in_band
    )


for _variant, _label in (("tas", "TAS"), ("tas_w", "TAS (W)"), ("tas_d", "TAS (D)")):
    register_method(Method(_variant, partial(search, variant=_variant), _label, searches=True))
