"""The only place that reads or writes weight folders: config.json + model.safetensors.

Loading is strict (every config key and tensor must match the family), refuses non-finite
tensors, and never unpickles anything. Saving writes a temp folder and swaps it in, so a
crash mid-save leaves the previous weights intact.
"""

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from genlab import REPO, params
from genlab.models.base import Family

ROOT = REPO / "weights"
CONFIG = "config.json"
TENSORS = "model.safetensors"


class WeightsError(RuntimeError):
    """A weights folder is missing, incomplete, corrupt or does not match its family."""


def shipped(family: Family) -> Path:
    return ROOT / family.name


def build(family: Family, **overrides) -> nn.Module:
    """A freshly initialised model of `family` with config fields overridden."""
    return family.model_cls(params.build(family.config_cls, overrides))


def read_config(family: Family, folder: Path):
    path = Path(folder) / CONFIG
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise WeightsError(f"{path}: cannot read config ({err})") from err
    fields = {f.name: f for f in dataclasses.fields(family.config_cls)}
    if not isinstance(raw, dict) or set(raw) != set(fields):
        got = set(raw) if isinstance(raw, dict) else set()
        raise WeightsError(f"{path}: config keys do not match {family.config_cls.__name__} "
                           f"(missing {sorted(set(fields) - got)}, unexpected {sorted(got - set(fields))})")
    try:
        return params.build(family.config_cls, raw)
    except params.RequestError as err:
        raise WeightsError(f"{path}: {err}") from err


def recover(folder: Path) -> None:
    """Finish a swap that a killed process left half-done: put the previous version back."""
    old = folder.with_name(f".{folder.name}-old")
    if not folder.exists() and old.is_dir():
        os.replace(old, folder)


def load(family: Family, folder: Optional[Path] = None, device: Optional[torch.device] = None) -> nn.Module:
    """Load a model of `family` from `folder` (default: shipped weights) in eval mode on `device`."""
    folder = Path(folder) if folder is not None else shipped(family)
    recover(folder)
    if not folder.is_dir():
        raise WeightsError(f"no weights folder at {folder}; train one with `python -m genlab train {family.name}`")
    model = family.model_cls(read_config(family, folder))
    path = folder / TENSORS
    try:
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as err:
        raise WeightsError(f"{path}: cannot read tensors ({err})") from err
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise WeightsError(f"{path}: non-finite values (NaN or Inf) in {', '.join(bad[:5])}")
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise WeightsError(f"{path}: tensors do not match {family.model_cls.__name__}: {err}") from err
    return model.to(device or torch.device("cpu")).eval()


@contextlib.contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty temp folder beside `folder`; on success it replaces `folder` in one swap.

    On any failure (an exception, Ctrl-C) the temp folder is removed and `folder` is untouched.
    Files are made world-readable so a server running as another user can read them.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    old = folder.with_name(f".{folder.name}-old")
    try:
        yield tmp
        tmp.chmod(0o755)
        for path in tmp.iterdir():
            path.chmod(0o644)
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        try:
            os.replace(tmp, folder)
        except BaseException:
            if old.exists() and not folder.exists():
                os.replace(old, folder)  # put the previous version back
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_model(model: nn.Module, folder: Path, dtype: str = "float32") -> None:
    """config.json + model.safetensors of `model` into an existing (temporary) folder.

    `dtype` "float16" stores floating-point tensors at half precision (loading casts them back)."""
    model.save_pretrained(folder, config=model.config)
    (folder / "README.md").unlink(missing_ok=True)  # the mixin's generic card; genlab writes its own
    if dtype != "float32":
        store = getattr(torch, dtype)
        tensors = {k: v.detach().to(store).contiguous() if v.is_floating_point() else v.detach().contiguous()
                   for k, v in model.state_dict().items()}
        save_file(tensors, str(folder / TENSORS))


def save(model: nn.Module, folder: Path, extra_files: Optional[Dict[str, str]] = None,
         dtype: str = "float32") -> Path:
    """Atomically write config.json + model.safetensors (+ extra text files) to `folder`."""
    with atomic_folder(folder) as tmp:
        write_model(model, tmp, dtype)
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
    return Path(folder)


def read_json(path: Path) -> dict:
    """A JSON file written by write_json (training.json, metrics.json); {} when there is none."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_json(path: Path, data: dict) -> None:
    """Atomic JSON write (temp file + rename) with finite numbers only."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
