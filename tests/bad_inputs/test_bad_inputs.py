"""Every bad input stops at the door: status 2, one line, no traceback, nothing written, no Ray.

The cases are data (`bad_input_cases.CASES`). Each runs in-process through `tasray.cli.main`;
the ones marked `subprocess` also run as ``python -m tasray``, which proves the contract for the
real command (interpreter start-up, warnings and all).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
from bad_input_cases import CASES, Case
from bad_input_files import WRITERS

from tasray.cli import main

ROOT = Path(__file__).resolve().parents[2]
RAY_DAEMONS = ("raylet", "gcs_server")


def descendants() -> set[tuple[int, str]]:
    """(pid, name) of every process below this one, read from /proc."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        parents.setdefault(int(rest[1]), []).append((int(stat.parent.name), name))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child[0])
    return found


def listing(*folders: Path) -> set[str]:
    """Every file and folder under `folders` (recursive)."""
    return {str(path) for folder in folders for path in folder.rglob("*")}


def prepare(case: Case, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """The working folder (with the case's files), the storage folder, and the command line."""
    work, store = tmp_path / "work", tmp_path / "store"
    work.mkdir()
    store.mkdir()
    if case.config is not None:  # first: writers of caches find their keys in it
        head = f"name: bad\nmodel: {{name: cifar_resnet20}}\nstorage_path: {store}\n"
        (work / "exp.yaml").write_text(head + case.config)
    for name in case.files:
        WRITERS[name](work)
    return work, store, [arg.format(store=store) for arg in case.argv]


def check_one_line(err: str, case: Case) -> None:
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("tasray") and "error:" in lines[0], err
    for word in case.words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_stopped_at_the_door(case: Case, tmp_path: Path, monkeypatch) -> None:
    work, store, argv = prepare(case, tmp_path)
    monkeypatch.chdir(work)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before, processes = listing(work, store), descendants()
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:  # argparse exits by itself
            status = exit.code
    seconds = time.monotonic() - started
    assert status == 2, err.getvalue() + out.getvalue()
    check_one_line(err.getvalue(), case)
    assert out.getvalue() == ""
    assert listing(work, store) == before, "the command left files behind"
    assert seconds < case.max_seconds, f"rejected after {seconds:.1f} s"
    assert not ray.is_initialized()
    assert not {p for p in descendants() - processes if p[1] in RAY_DAEMONS}


SUBPROCESS_CASES = [case for case in CASES if case.subprocess]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[case.id for case in SUBPROCESS_CASES])
def test_bad_input_through_the_real_command(case: Case, tmp_path: Path) -> None:
    work, store, argv = prepare(case, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **case.env}
    env.pop("RAY_ADDRESS", None)
    before = listing(work, store)
    done = subprocess.run(
        [sys.executable, "-m", "tasray", *argv],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    check_one_line(done.stderr, case)
    assert done.stdout == ""
    assert listing(work, store) == before
    assert "ray" not in {name for _, name in descendants()}  # nothing of Ray outlived the command


def test_an_open_port_that_is_not_ray_fails_fast(tmp_path: Path, capsys) -> None:
    """A server that accepts connections but is no Ray GCS: one line within seconds, not Ray's retries."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    (tmp_path / "exp.yaml").write_text(
        f"name: x\nmodel: {{name: cifar_resnet20}}\nstorage_path: {tmp_path}\n"
    )
    started = time.monotonic()
    try:
        status = main(["run", str(tmp_path / "exp.yaml"), "--address", f"127.0.0.1:{port}"])
    finally:
        server.close()
    assert status == 2 and time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no Ray cluster answers at 127.0.0.1:{port}" in err
    assert not ray.is_initialized()
