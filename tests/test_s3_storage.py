"""The store on a real non-local filesystem: an S3 API (moto's server) reached through pyarrow, as
`s3://` storage paths are. Rows, caches, the sweep journal and the storage check all go through it."""

from __future__ import annotations

import csv
import io

import moto.settings
import pyarrow.fs as pafs
import pytest

from tasray.cli import main
from tasray.distributed.journal import SweepJournal
from tasray.engine.pipeline import Teacher, TeacherCache
from tasray.engine.search_cache import SearchCache
from tasray.errors import TasrayError
from tasray.io import storage
from tasray.models import PrunedResNet
from tasray.preflight.storage import check_storage
from tasray.results import ResultsStore, TrialRecord, read_results
from tasray.spec.arch import ArchSpec
from tasray.stages.search import SearchResult

SPEC = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))


def record(trial_id: str, method: str, top1: float) -> TrialRecord:
    fields = dict(experiment_id="exp-a", trial_id=trial_id, method=method, transfer="kd", data_set="digits")
    return TrialRecord.from_arch(SPEC, seed=0, top1=top1, **fields)


def listing(uri: str) -> list[str]:
    filesystem, root = pafs.FileSystem.from_uri(uri)
    return sorted(info.path for info in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)))


def test_results_rows_through_s3(s3_store: str, capsys) -> None:
    store = ResultsStore(s3_store)
    store.append(record("t0", "tas", 91.2))
    store.append(record("t1", "fixed_ratio", 90.1))
    store.append(record("t0", "tas", 93.0))  # a re-run trial replaces its row
    assert read_results(s3_store)["trial_id"].to_pylist() == ["t0", "t1"]
    assert store.read_trial("exp-a", "t0")["top1"] == 93.0
    assert not [path for path in listing(s3_store) if path.endswith(".tmp")]
    assert main(["leaderboard", s3_store, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {row["trial_id"]: float(row["top1"]) for row in rows} == {"t0": 93.0, "t1": 90.1}


def test_caches_and_the_sweep_journal_through_s3(s3_store: str) -> None:
    model = PrunedResNet(SPEC).eval()
    teachers = TeacherCache(s3_store)
    assert teachers.load("k") is None
    teachers.save("k", Teacher(SPEC, model, 71.5, 95.0, 3.0))
    loaded = teachers.load("k")
    assert loaded.top1 == 71.5 and loaded.spec == SPEC
    assert all((loaded.state()[k] == v).all() for k, v in model.state_dict().items())

    searches = SearchCache(s3_store)
    history = [{"epoch": 0, "flop_ratio": 0.5}]
    searches.save("s", SearchResult(SPEC, history, 2.0, 0, True))
    assert searches.load("s") == SearchResult(SPEC, history, 2.0, 0, True)

    journal = SweepJournal(storage.join(s3_store, "_ray", "exp", "points-abc.json"))
    assert journal.load() == []
    journal.save([{"search.target_ratio": 0.5}, {"search.target_ratio": 0.61}])
    assert journal.load() == [{"search.target_ratio": 0.5}, {"search.target_ratio": 0.61}]


def test_a_damaged_file_on_s3_is_named_for_deletion(s3_store: str) -> None:
    teachers = TeacherCache(s3_store)
    storage.write_bytes(teachers.file("k"), b"\x00not a torch file")
    with pytest.raises(TasrayError, match=r"the cached teacher s3://.*/teacher.pt is damaged .*delete it"):
        teachers.load("k")
    journal = SweepJournal(storage.join(s3_store, "points.json"))
    storage.write_bytes(journal.path, b'{"search.target_ratio": 0.5}')
    with pytest.raises(TasrayError, match="sweep journal .* is damaged .*expected a list"):
        journal.load()


def test_the_storage_check_writes_nothing_and_finds_a_file_in_the_way(s3_store: str) -> None:
    storage.write_bytes(storage.join(s3_store, "kept.txt"), b"x")
    before = listing(s3_store)
    check_storage(s3_store, ("exp",))
    assert listing(s3_store) == before  # the probe file is gone again
    storage.write_bytes(storage.join(s3_store, "exp"), b"a file, not a folder")
    with pytest.raises(TasrayError, match="exp under it is a file; the run needs a folder there"):
        check_storage(s3_store, ("exp",))
    missing_bucket = s3_store.replace("s3://tasray-", "s3://missing-")
    with pytest.raises(TasrayError, match=f"storage_path = '{missing_bucket}': cannot write to it"):
        check_storage(missing_bucket)


def test_refused_credentials_are_permission_denied_not_damage(s3_store: str, monkeypatch) -> None:
    teachers = TeacherCache(s3_store)
    teachers.save("k", Teacher(SPEC, PrunedResNet(SPEC).eval(), 71.5, 95.0, 3.0))
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys from now on
    with pytest.raises(TasrayError, match="cannot write to it: permission denied"):
        check_storage(s3_store)
    with pytest.raises(TasrayError, match=r"the cached teacher: cannot read s3://.*: permission denied$"):
        teachers.load("k")


def test_an_unreachable_store_is_not_called_damaged(s3_store: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")  # nothing listens on port 1
    unreachable = r"the cached teacher: cannot read .*: the store is unreachable"
    with pytest.raises(TasrayError, match=unreachable) as err:
        TeacherCache(s3_store).load("k")
    assert "delete" not in str(err.value)


def test_run_dry_run_checks_an_s3_store(s3_store: str, capsys) -> None:
    argv = ["run", "experiments/quickstart.yaml", "--dry-run", "--address", "local"]
    assert main([*argv, "--set", f"storage_path={s3_store}"]) == 0
    assert "would run on a new local Ray instance" in capsys.readouterr().out
    assert listing(s3_store) == []


@pytest.mark.parametrize("where", ["s3", "local"])
def test_a_deleted_run_folder_takes_its_files_and_leaves_its_siblings(where, s3_store, tmp_path) -> None:
    root = s3_store if where == "s3" else str(tmp_path)
    run = storage.join(root, "_ray", "exp", "tas-000-abc")
    sibling = storage.join(root, "_ray", "exp", "sweep-1")
    storage.write_bytes(storage.join(run, "checkpoint_000001", "search.pt"), b"state")
    storage.write_bytes(storage.join(run, "tasray_final-search.pt"), b"final")
    storage.write_bytes(storage.join(sibling, "tuner.pkl"), b"tune")
    storage.delete_folder(run)
    storage.delete_folder(run)  # already gone: nothing to do
    assert storage.read_bytes(storage.join(run, "tasray_final-search.pt")) is None
    assert storage.read_bytes(storage.join(sibling, "tuner.pkl")) == b"tune"
