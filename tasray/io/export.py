"""Export a pruned network: state_dict + ArchSpec JSON (reloadable), TorchScript, ONNX.

Every export is marked as tasray's own (a manifest file in a state_dict folder, an extra file in a
TorchScript archive, a metadata entry in an ONNX graph). An existing output is replaced only when
it carries that mark, so an export never overwrites or deletes what it did not create.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

from tasray.errors import TasrayError
from tasray.models.factory import build_network
from tasray.models.resnet import PrunedResNet
from tasray.preflight.checkpoint import first_line, read_state_dict
from tasray.spec.arch import ArchSpec

WEIGHTS, ARCH = "model.pt", "arch.json"
FORMATS = ("state_dict", "torchscript", "onnx")
MARK = "tasray-export"
"""Name of the mark: the manifest file (``.tasray-export.json``), TorchScript extra file, ONNX key."""
MANIFEST = f".{MARK}.json"


def save_pruned(model: PrunedResNet, directory: str | Path) -> Path:
    """Write `model.pt` (state_dict) and `arch.json` (its ArchSpec) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.spec.save(directory / ARCH)
    torch.save(model.state_dict(), directory / WEIGHTS)
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


def example_input(spec: ArchSpec, batch: int = 1) -> torch.Tensor:
    return torch.randn(batch, spec.in_channels, *spec.input_size)


def manifest(model: PrunedResNet) -> str:
    """The mark's content: what was exported, as JSON."""
    return json.dumps({"tool": "tasray", "model": model.spec.model, "arch": model.spec.to_dict()})


def is_own_export(path: Path, fmt: str) -> bool:
    """Whether `path` is an earlier output of `export` in format `fmt` (it carries the mark)."""
    if fmt == "state_dict":
        return path.is_dir() and (path / MANIFEST).is_file()
    if not path.is_file():
        return False
    if fmt == "torchscript":
        try:
            with zipfile.ZipFile(path) as archive:
                return any(name.endswith(f"/extra/{MARK}") for name in archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    try:
        import onnx

        graph = onnx.load(str(path), load_external_data=False)
    except Exception:  # any file that onnx cannot parse is not ours
        return False
    return any(prop.key == MARK for prop in graph.metadata_props)


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


def export(model: PrunedResNet, fmt: str, out: str | Path) -> Path:
    """Write `model` to `out` in format `fmt` (see FORMATS), after `check_out`."""
    if fmt not in FORMATS:
        raise TasrayError(f"--format {fmt!r}; allowed: {', '.join(FORMATS)}")
    out = Path(out)
    check_out(out, fmt)
    if fmt == "state_dict":
        save_pruned(model, out)
        (out / MANIFEST).write_text(manifest(model) + "\n")
        return out
    writer = export_torchscript if fmt == "torchscript" else export_onnx
    return _write_whole(out, lambda temp: writer(model, temp))


def _write_whole(out: Path, write: Callable[[Path], object]) -> Path:
    """Run `write` on a temp file beside `out`, then rename it over `out` (nothing half-written)."""
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        write(Path(name))
        os.replace(name, out)
    finally:
        if os.path.exists(name):
            os.remove(name)
    return out


def export_torchscript(model: PrunedResNet, path: str | Path) -> Path:
    """A TorchScript file that `torch.jit.load` runs without tasray installed."""
    model = model.eval()
    with warnings.catch_warnings():  # TorchScript is deprecated upstream but still the portable format
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(model, example_input(model.spec))
    traced.save(str(path), _extra_files={MARK: manifest(model)})
    return Path(path)


def export_onnx(model: PrunedResNet, path: str | Path) -> Path:
    """An ONNX graph with a dynamic batch axis; needs the `onnx` package (`pip install tasray[onnx]`)."""
    if importlib.util.find_spec("onnx") is None:
        raise TasrayError("ONNX export needs the onnx package: pip install 'tasray[onnx]'")
    import onnx

    model = model.eval()
    with warnings.catch_warnings():  # the TorchScript-based exporter needs no onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example_input(model.spec),),
            str(path),
            dynamo=False,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )
    graph = onnx.load(str(path))
    graph.metadata_props.add(key=MARK, value=manifest(model))
    onnx.save(graph, str(path))
    return Path(path)
