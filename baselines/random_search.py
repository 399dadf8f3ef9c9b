"""Random search (the NAS baseline of the paper's Table 1): sample N architectures from the TAS search
space whose FLOPs lie within (1 ± t)·R, short-train each on D_train, keep the best on D_val. The
space is the search's, widths rounded to `search.width_multiple` included.
"""

from __future__ import annotations

import random

from tasray.arch import ArchSpec
from tasray.errors import TasrayError
from tasray.jobs import TrainJob, speed_settings
from tasray.methods import METHODS, MethodContext, MethodResult
from tasray.models.search import SearchSpace
from tasray.stages.train import TrainSettings
from tasray.tas.cost import flop_ratio, ratio_bounds

MAX_TRIES = 20_000


def sample_spec(full: ArchSpec, space: SearchSpace, rng: random.Random) -> ArchSpec:
    """One architecture of the search space. A shared base level, jittered per conv, spreads the
    samples over all FLOP ratios (independent uniform choices would cluster around the middle)."""
    options = [space.width_candidates(w) for w in full.widths]
    level = rng.random()
    widths = []
    for choices in options:
        centre = round(level * (len(choices) - 1))
        index = min(len(choices) - 1, max(0, centre + rng.randint(-2, 2)))
        widths.append(choices[index])
    depths = [rng.choice(space.depth_candidates(d)) for d in full.depths]
    return ArchSpec(full.model, widths, depths, full.in_channels, full.input_size, full.num_classes)


def sample_specs(
    full: ArchSpec, space: SearchSpace, count: int, target: float, tolerance: float, seed: int
) -> list[ArchSpec]:
    """`count` distinct architectures within the FLOP bounds, by bounded rejection sampling."""
    rng, low_high = random.Random(seed), ratio_bounds(target, tolerance)
    found: dict[ArchSpec, None] = {}
    for _ in range(MAX_TRIES):
        spec = sample_spec(full, space, rng)
        if low_high[0] <= flop_ratio(spec) <= low_high[1]:
            found[spec] = None
            if len(found) == count:
                return list(found)
    raise TasrayError(
        f"random_search found {len(found)} of {count} architectures with FLOP ratio in "
        f"[{low_high[0]:.3f}, {low_high[1]:.3f}] after {MAX_TRIES} samples; widen search.tolerance"
    )


@METHODS.register("random_search")
def random_search(context: MethodContext) -> MethodResult:
    exp, settings = context.experiment, context.baseline
    s = exp.search
    space = SearchSpace(tuple(s.width_ratios), s.min_depth, s.num_selected, "tas", s.width_multiple)
    specs = sample_specs(
        context.full_spec, space, settings.num_candidates, settings.target_ratio, s.tolerance, exp.seed
    )
    train = TrainSettings(
        epochs=settings.train_epochs,
        lr=exp.retrain.lr,
        momentum=exp.retrain.momentum,
        weight_decay=exp.retrain.weight_decay,
        batch_size=exp.data.batch_size,
        eval_batch_size=exp.data.eval_batch_size,
        speed=speed_settings(exp.resources),
    )
    history, seconds, best = [], 0.0, None
    for index, spec in enumerate(specs):
        job = TrainJob(
            f"candidate-{index:03d}", spec, train, exp.data, exp.seed, "search_train", "search_val"
        )
        result = context.runner.run(job)
        seconds += result.seconds
        history.append({"candidate": index, "flop_ratio": flop_ratio(spec), "val_top1": result.top1})
        if best is None or result.top1 > best[0]:
            best = (result.top1, spec)
    return MethodResult(best[1], None, seconds, history)
