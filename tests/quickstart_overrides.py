"""The smallest quickstart the Ray tests run: every stage for one epoch, one random-search candidate."""

SMALLEST_QUICKSTART = [
    "teacher.epochs=1",
    "search.epochs=1",
    "retrain.epochs=1",
    "sweep.num_samples=2",
    "baselines.1.num_candidates=1",
]
