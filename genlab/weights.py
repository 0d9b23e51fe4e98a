"""The only place that reads or writes weight folders: config.json + model.safetensors.

Loading is strict (every config key and tensor must match the family), refuses non-finite
tensors, and never unpickles anything. Saving writes a temp folder and swaps it in, so a
crash mid-save leaves the previous weights intact; the next save clears the temp folders a
killed one left. A damaged file or a failed save is one clear error naming the file.
"""

import contextlib
import dataclasses
import json
import os
import re
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


class SaveError(WeightsError, params.RequestError):
    """A save failed on the machine's side (disk full, no permission); the previous version is kept.

    A RequestError too, so the UI shows its message as it shows bad requests; the CLI prints it."""


def load_json(path: Path, what: str):
    """The parsed JSON file `path` (`what`: e.g. "the checkpoint's state", for messages); WeightsError
    naming the file when it is missing, unreadable, truncated or nested too deeply (a corrupt file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WeightsError(f"{path} is missing: {what} cannot be read") from None
    except UnicodeDecodeError:
        raise WeightsError(f"{path} is not UTF-8 text: {what} is corrupt") from None
    except OSError as err:
        raise WeightsError(f"{path} cannot be read ({err.strerror or err}): {what} is unavailable") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise WeightsError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): "
                           f"{what} is truncated or corrupt") from None
    except (ValueError, RecursionError) as err:  # e.g. '[' * 100000, or a 5000-digit number
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise WeightsError(f"{path} is not usable JSON ({reason}): {what} is corrupt") from None


def shipped(family: Family) -> Path:
    return ROOT / family.name


def build(family: Family, **overrides) -> nn.Module:
    """A freshly initialised model of `family` with config fields overridden."""
    return family.model_cls(params.build(family.config_cls, overrides))


def read_config(family: Family, folder: Path):
    path = Path(folder) / CONFIG
    raw = load_json(path, "the model's config")
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


def _temp_names(folder: Path) -> re.Pattern:
    """Names of the temp folders `atomic_folder` makes beside `folder`: tempfile.mkdtemp's prefix
    plus its 8 random characters (a-z, 0-9, _), never a '-', so other folders' temps never match."""
    return re.compile(re.escape(f".{folder.name}-") + r"[a-z0-9_]{8}")


def remove_stale_temps(folder: Path) -> None:
    """Remove temp folders an earlier save of `folder` left when killed: its .<name>-XXXXXXXX
    folders, and .<name>-old once `folder` itself is in place (`recover` runs first). Only those
    exact names; one writer per folder at a time, as the swap itself assumes."""
    folder = Path(folder)
    recover(folder)
    if not folder.parent.is_dir():
        return
    temp = _temp_names(folder)
    for path in folder.parent.iterdir():
        ours = temp.fullmatch(path.name) or (path.name == f".{folder.name}-old" and folder.is_dir())
        if ours and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def disk_error(err: BaseException) -> Optional[str]:
    """'no space left on device' and the like for an OSError or a safetensors I/O error; None otherwise."""
    code = getattr(err, "errno", None) if isinstance(err, OSError) else None
    if isinstance(err, SafetensorError):
        found = re.search(r"\(os error (\d+)\)", str(err))
        code = int(found.group(1)) if found else None
    if code is None:
        return str(err) if isinstance(err, OSError) else None
    return os.strerror(code)[:1].lower() + os.strerror(code)[1:]


@contextlib.contextmanager
def atomic_folder(folder: Path, what: str = "weights") -> Iterator[Path]:
    """Yield an empty temp folder beside `folder`; on success it replaces `folder` in one swap.

    On any failure (an exception, Ctrl-C) the temp folder is removed and `folder` is untouched;
    a failure to write (disk full, no permission) is a SaveError naming `what` and `folder`.
    Stale temp folders of earlier, killed saves are removed first. Files are made world-readable
    so a server running as another user can read them.
    """
    folder = Path(folder)
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        yield tmp
        _swap_in(tmp, folder)
    except (OSError, SafetensorError) as err:
        reason = disk_error(err)
        if reason is None:
            raise
        verb = "are" if what.endswith("s") else "is"
        kept = f"the previous {what} {verb} kept" if folder.is_dir() else "nothing was saved"
        raise SaveError(f"could not save the {what} to {folder}: {reason}; {kept}") from err
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, folder: Path) -> None:
    """Make the finished temp folder `tmp` the new `folder`; the previous one stays until then."""
    old = folder.with_name(f".{folder.name}-old")
    for path in [tmp, *tmp.rglob("*")]:  # folders 755, files 644: mkdtemp makes 700, safetensors 600
        path.chmod(0o755 if path.is_dir() else 0o644)
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
    """A JSON file written by write_json (training.json, metrics.json); {} when there is none,
    WeightsError naming the file when it is damaged."""
    path = Path(path)
    if not path.is_file():
        return {}
    data = load_json(path, "the record")
    if not isinstance(data, dict):
        raise WeightsError(f"{path} holds {type(data).__name__}, not an object: the record is corrupt")
    return data


def write_json(path: Path, data: dict) -> None:
    """Atomic JSON write (temp file + rename) with finite numbers only; SaveError when the disk refuses."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        kept = "the previous version is kept" if path.is_file() else "nothing was saved"
        raise SaveError(f"could not save {path}: {disk_error(err)}; {kept}") from err
