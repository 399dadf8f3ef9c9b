"""Results of finished trials: one Arrow schema, a Parquet store, leaderboards and reports.

Writers (the Tune trial driver) call ``ResultsStore(root).append(TrialRecord.from_arch(...))``;
readers call ``read_results(path)`` and hand the table to ``render_leaderboard`` or the report.
The figures and the report live in `plots` and `report` (imported on demand: they pull in
matplotlib).
"""

from tasray.results.leaderboard_render import render_leaderboard
from tasray.results.schema import SCHEMA, SCHEMA_VERSION, RecordError, TrialRecord
from tasray.results.store import ResultsStore, read_results

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "RecordError",
    "ResultsStore",
    "TrialRecord",
    "read_results",
    "render_leaderboard",
]
