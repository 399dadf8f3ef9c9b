"""Export a pruned network: an ExportedProgram (`.pt2`, the default), ONNX, TorchScript, or
state_dict + ArchSpec JSON (reloadable by tasray).

Every export carries a manifest (the mark): the ArchSpec, the input shape, the normalisation, the
class names and the tasray version. It is an extra file of a `.pt2` or TorchScript archive, a
metadata entry of an ONNX graph, a `.tasray-export.json` file in a state_dict folder. An existing
output is replaced only when it carries the mark of the same format, so an export never
overwrites or deletes what it did not create.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tasray import __version__
from tasray.data.card import DataCard
from tasray.errors import TasrayError
from tasray.models.factory import build_network
from tasray.models.resnet import PrunedResNet
from tasray.plural import plural
from tasray.preflight.checkpoint import first_line, read_state_dict
from tasray.spec.arch import ArchSpec

WEIGHTS, ARCH, DATA = "model.pt", "arch.json", "data.json"
FORMATS = ("pt2", "onnx", "torchscript", "state_dict")
MARK = "tasray-export"
"""Name of the mark: the manifest file (``.tasray-export.json``), archive extra file, ONNX key."""
MANIFEST = f".{MARK}.json"
EXAMPLE_BATCH = 2
"""Batch of the example input that traces the network; the batch axis stays dynamic."""


def save_pruned(model: PrunedResNet, directory: str | Path, card: DataCard | None = None) -> Path:
    """Write `model.pt` (state_dict), `arch.json` (its ArchSpec) and `data.json` (`card`) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.spec.save(directory / ARCH)
    torch.save(model.state_dict(), directory / WEIGHTS)
    if card is not None:
        (directory / DATA).write_text(card.to_json() + "\n")
    return directory


def load_pruned(directory: str | Path, map_location: str | torch.device = "cpu") -> PrunedResNet:
    """Rebuild a network saved by `save_pruned`.

    Raises:
        TasrayError: a folder without the two files, an unreadable ArchSpec, or weights that do
            not fit it (corrupt, or of another architecture); one line.
    """
    directory = Path(directory)
    if not (directory / ARCH).is_file() or not (directory / WEIGHTS).is_file():
        raise TasrayError(f"{directory} is not a saved pruned network: expected {ARCH} and {WEIGHTS}")
    try:
        spec = ArchSpec.from_json((directory / ARCH).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError, TypeError) as err:
        raise TasrayError(f"{directory / ARCH}: not an ArchSpec JSON file ({first_line(err)})") from None
    except TasrayError as err:
        raise TasrayError(f"{directory / ARCH}: {err}") from None
    model = build_network(spec)
    model.load_state_dict(read_state_dict(directory / WEIGHTS, model, f"{spec.model} weights"))
    return model.to(map_location).eval()


def load_card(directory: str | Path) -> DataCard | None:
    """The `data.json` saved beside a network, or None when there is none (runs before it existed).

    Raises:
        TasrayError: a file that is not a data card; one line.
    """
    path = Path(directory) / DATA
    if not path.is_file():
        return None
    try:
        return DataCard.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as err:
        raise TasrayError(f"{path}: not a data card JSON file ({first_line(err)})") from None
    except TasrayError as err:
        raise TasrayError(f"{path}: {err}") from None


def check_card(card: DataCard, spec: ArchSpec) -> None:
    """`card` describes the data `spec` was built for: the same image shape and class count."""
    shape = (spec.in_channels, *spec.input_size)
    if card.input_shape != shape or len(card.class_names) != spec.num_classes:
        raise TasrayError(
            f"the data set {card.data_set} ({'×'.join(map(str, card.input_shape))}, "
            f"{plural(len(card.class_names), 'class', 'classes')}) does not fit the network "
            f"({'×'.join(map(str, shape))}, {plural(spec.num_classes, 'class', 'classes')})"
        )


def example_input(spec: ArchSpec, batch: int = EXAMPLE_BATCH) -> torch.Tensor:
    return torch.randn(batch, spec.in_channels, *spec.input_size)


def manifest(model: PrunedResNet, card: DataCard, fmt: str) -> str:
    """The mark's content: what was exported, and what its input and outputs are, as JSON."""
    return json.dumps(
        {
            "tool": "tasray",
            "tasray_version": __version__,
            "format": fmt,
            "model": model.spec.model,
            "arch": model.spec.to_dict(),
            **card.to_dict(),
        }
    )


def read_mark(path: Path) -> dict[str, Any] | None:
    """The manifest an earlier export left at `path`, or None when `path` carries no mark."""
    try:
        if path.is_dir():
            text = (path / MANIFEST).read_text(encoding="utf-8")
        elif zipfile.is_zipfile(path):  # .pt2 and TorchScript archives
            with zipfile.ZipFile(path) as archive:
                name = next(n for n in archive.namelist() if n.endswith(f"/extra/{MARK}"))
                text = archive.read(name).decode()
        else:
            import onnx

            graph = onnx.load(str(path), load_external_data=False)
            text = next(prop.value for prop in graph.metadata_props if prop.key == MARK)
        mark = json.loads(text)
    except Exception:  # anything unreadable, or without the mark, is not ours
        return None
    return mark if isinstance(mark, dict) else None


# Marks of tasray versions before the manifest named its format: one format per container.
_UNNAMED_FORMAT = {"dir": "state_dict", "zip": "torchscript", "file": "onnx"}


def is_own_export(path: Path, fmt: str) -> bool:
    """Whether `path` is an earlier output of `export` in format `fmt` (it carries the mark)."""
    mark = read_mark(path)
    if mark is None:
        return False
    container = "dir" if path.is_dir() else "zip" if zipfile.is_zipfile(path) else "file"
    return mark.get("format", _UNNAMED_FORMAT[container]) == fmt


def check_out(path: Path, fmt: str) -> None:
    """`path` may be written: its folder exists, and it is absent or an earlier export of ours.

    Raises:
        TasrayError: a missing parent folder, or an existing path export did not create.
    """
    if not path.parent.is_dir():
        raise TasrayError(f"--out {path}: the folder {path.parent} does not exist; create it first")
    if (path.exists() or path.is_symlink()) and not is_own_export(path, fmt):
        kind = "folder" if path.is_dir() else "file"
        raise TasrayError(
            f"--out {path}: an existing {kind} that is not an earlier tasray {fmt} export; "
            "give a new path (export never overwrites what it did not create)"
        )


def export(model: PrunedResNet, card: DataCard, fmt: str, out: str | Path) -> Path:
    """Write `model` to `out` in format `fmt` (see FORMATS), after `check_out`, with `card` embedded."""
    if fmt not in FORMATS:
        raise TasrayError(f"--format {fmt!r}; allowed: {', '.join(FORMATS)}")
    check_card(card, model.spec)
    out = Path(out)
    check_out(out, fmt)
    model = model.eval()
    mark = manifest(model, card, fmt)
    if fmt == "state_dict":
        save_pruned(model, out, card)
        (out / MANIFEST).write_text(mark + "\n")
        return out
    writer = {"pt2": export_program, "onnx": export_onnx, "torchscript": export_torchscript}[fmt]
    return _write_whole(out, lambda temp: writer(model, mark, temp))


def _write_whole(out: Path, write: Callable[[Path], object]) -> Path:
    """Run `write` on `out`'s name in a temp folder beside it, then move the file over `out`
    (nothing half-written; an archive's inner folder is named after `out`, not a temp file)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(folder / out.name)
        os.replace(folder / out.name, out)
    finally:
        shutil.rmtree(folder)
    return out


def _dynamic_batch(model: PrunedResNet) -> torch.export.ExportedProgram:
    """The network as an ExportedProgram whose batch size is free."""
    batch = torch.export.Dim("batch", min=1)
    return torch.export.export(model, (example_input(model.spec),), dynamic_shapes=({0: batch},))


def export_program(model: PrunedResNet, mark: str, path: Path) -> Path:
    """An ExportedProgram file that `torch.export.load` runs without tasray installed."""
    torch.export.save(_dynamic_batch(model), path, extra_files={MARK: mark})
    return path


def export_onnx(model: PrunedResNet, mark: str, path: Path) -> Path:
    """One ONNX file (weights inside) with a dynamic batch axis, through torch.export.

    Needs onnxscript (`pip install 'tasray[onnx]'`).
    """
    if importlib.util.find_spec("onnxscript") is None:
        raise TasrayError("ONNX export needs the onnxscript package: pip install 'tasray[onnx]'")
    program = torch.onnx.export(
        _dynamic_batch(model), input_names=["images"], output_names=["logits"], dynamo=True, verbose=False
    )
    program.model.metadata_props[MARK] = mark
    program.save(path, external_data=False)
    return path


def export_torchscript(model: PrunedResNet, mark: str, path: Path) -> Path:
    """A TorchScript file that `torch.jit.load` runs without tasray (deprecated by PyTorch)."""
    with warnings.catch_warnings():  # the deprecation is the user's choice of format
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(model, example_input(model.spec))
    traced.save(str(path), _extra_files={MARK: mark})
    return path
