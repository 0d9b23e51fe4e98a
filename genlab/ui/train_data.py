"""The pictures an image family trains on in the Train tab: a named set (MNIST, Fashion-MNIST, KMNIST,
drawn shapes) or the user's own zip of class folders, checked and bounded before any model work; a grid
of real examples per class with the counts a run will see; and the user's zip kept beside its run, so
Resume trains on the same pictures.

Whether a family picks its pictures is decided by its data kind (`Dataset.choose`), never by its name.
"""

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from genlab import images
from genlab.data import datasets, image_sets, own_pictures, picture_archive
from genlab.data.download import DataError
from genlab.data.labelled_images import ImageSplits, LabelledImages
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train.previews import short_name
from genlab.ui.recently_used import RecentlyUsed
from genlab.ui.safe_messages import without_paths

MNIST = "mnist"  # the default: trains exactly as before pictures could be chosen
OWN_ZIP = "own"
DATA_CHOICES = [(source.title, name) for name, source in image_sets.IMAGE_SOURCES.items()] + [
    ("my own zip of class folders", OWN_ZIP)]
DATA_VALUES = tuple(value for _, value in DATA_CHOICES)
KEPT_ZIP = "pictures.zip"  # kept as `<run>-pictures.zip`: the run ledger deletes `<run>-*.zip` with its run
UNPACKED_PER_BYTE = 20  # a web zip may unpack to this many times its own bound (pictures barely compress)
WEB_MAX_PIXELS = 100_000_000  # decoded pixels of one web upload: bounds the seconds spent decoding it
ZIPS_CACHED = 2  # loaded user zips kept in memory, so Start after the data preview does not decode again
EXAMPLES_PER_CLASS = 3
CLASSES_SHOWN = 10  # classes in the data preview grid, a column each (the counts table lists all)


def picks_pictures(family_name: str) -> bool:
    """Whether the family trains on a chosen image set (its data kind can choose one)."""
    family = FAMILIES.get(family_name)
    return family is not None and datasets.DATASETS[family.data].choose is not None


def upload_bound(limits) -> int:
    """Bytes of a user's zip this server accepts: the same bound as an uploaded text (5 MiB in public mode)."""
    return min(limits.max_text_bytes, picture_archive.CLI_MAX_BYTES)


@dataclass(frozen=True)
class ChosenPictures:
    """The pictures a run trains on, as chosen in the tab."""

    choice: str  # one of DATA_VALUES
    splits: ImageSplits
    archive: Optional[bytes] = None  # the user's zip, kept beside the run so Resume reads the same bytes


class PictureCache:
    """Loaded picture sets by name, and the last ZIPS_CACHED user zips by their SHA-256 (bounded memory).
    Loading happens outside the lock: two requests for the same new set may both load it, never wait."""

    def __init__(self):
        self._named = {}
        self._zips: RecentlyUsed = RecentlyUsed(ZIPS_CACHED)  # SHA-256 of the zip -> its pictures
        self._lock = threading.Lock()

    def named(self, name: str) -> ImageSplits:
        with self._lock:
            found = self._named.get(name)
        if found is None:  # never downloads here: the CLI does, with its progress and checks
            found = image_sets.load_named(name, download=False)
            with self._lock:
                self._named[name] = found
        return found

    def own(self, blob: bytes, name: str, max_bytes: int) -> ImageSplits:
        return self._zips.get_or_make(hashlib.sha256(blob).hexdigest(), lambda: own_pictures.load_pictures(
            blob, name=name, max_bytes=max_bytes, max_unpacked=UNPACKED_PER_BYTE * max_bytes, max_pixels=WEB_MAX_PIXELS))


def display_name(file_name: str) -> str:
    """A user's zip's name as messages and training.json show it: letters, digits, `._ -`, 40 at most."""
    return re.sub(r"[^A-Za-z0-9._ -]", "_", file_name)[:40].strip() or "your zip"


def read_upload(uploaded, max_bytes: int) -> Tuple[bytes, str]:
    """(bytes, display name) of a zip Gradio received (a path it chose, never one the user typed), its size
    checked before it is read."""
    if not uploaded:
        raise RequestError("choose a .zip of class folders to upload (cat/0001.png, dog/0001.png ...)")
    path = Path(uploaded)
    size = path.stat().st_size
    if size > max_bytes:
        raise RequestError(f"the uploaded zip is {size:,} bytes; at most {max_bytes:,} are accepted here")
    return path.read_bytes(), display_name(path.name)


def chosen_pictures(cache: PictureCache, family_name: str, choice, uploaded, max_bytes: int,
                    archive: Optional[bytes] = None, archive_name: str = KEPT_ZIP) -> Optional[ChosenPictures]:
    """The pictures `family_name` trains on; None for the family's default data (MNIST, or text).

    `uploaded` is the path of the zip Gradio received; `archive` the bytes of a zip kept beside a run
    (`archive_name`: the name it was uploaded under)."""
    if not picks_pictures(family_name):
        return None
    choice = MNIST if choice in (None, "") else choice
    if choice not in DATA_VALUES:
        raise RequestError(f"data must be one of {', '.join(DATA_VALUES)}, got {choice!r}")
    if choice == MNIST:
        return None
    try:
        if choice == OWN_ZIP:
            if archive is None:
                archive, name = read_upload(uploaded, max_bytes)
            else:
                name = display_name(archive_name)
            if len(archive) > max_bytes:
                raise RequestError(f"the zip is {len(archive):,} bytes; at most {max_bytes:,} are accepted here")
            return ChosenPictures(choice, cache.own(archive, name, max_bytes), archive)
        return ChosenPictures(choice, cache.named(choice))
    except DataError as err:
        raise RequestError(without_paths(str(err))) from None


def kept_zip(runs_root: Path, run_name: str) -> Path:
    """Where a run's user zip is kept: beside its checkpoint folder, which every save replaces whole."""
    return runs_root / f"{run_name}-{KEPT_ZIP}"


def examples(data: LabelledImages, per_class: int = EXAMPLES_PER_CLASS,
             classes_shown: int = CLASSES_SHOWN) -> Tuple[torch.Tensor, List[str]]:
    """The first `per_class` pictures of each of the first `classes_shown` classes, a column per class:
    ((N, 1, 28, 28) in [-1, 1] in row order, their captions); a class with fewer pictures gets blanks."""
    shown = min(data.num_classes, classes_shown)
    firsts = [np.flatnonzero(data.labels == label)[:per_class] for label in range(shown)]
    tiles = np.zeros((per_class, shown, 28, 28), dtype=np.uint8)  # (rows, columns, H, W)
    captions = [[""] * shown for _ in range(per_class)]
    for label, where in enumerate(firsts):
        tiles[:len(where), label] = data.images[where]
        for row in range(len(where)):
            captions[row][label] = short_name(data.classes[label])
    pictures = torch.from_numpy(tiles.reshape(-1, 28, 28).astype(np.float32) / 127.5 - 1.0)[:, None]
    return pictures, [c for row in captions for c in row]


def example_grid(data: LabelledImages) -> np.ndarray:
    """(H, W, 3) uint8: real training pictures, a column per class, each captioned with its class name."""
    pictures, captions = examples(data)
    columns = min(data.num_classes, CLASSES_SHOWN)
    return np.asarray(images.annotated_grid(pictures, captions, [True] * len(captions), columns=columns, scale=2))


def escaped(text: str) -> str:
    """A user's folder or file name as literal Markdown text: no links, emphasis, HTML or table cells."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", text)


def class_counts(splits: ImageSplits) -> str:
    """Markdown: the set, any skipped files, then a table of pictures per class (train and held out)."""
    train, held = splits.train, splits.test
    trained = np.bincount(train.labels, minlength=train.num_classes)
    held_out = np.bincount(held.labels, minlength=train.num_classes)
    rows = [f"| {escaped(name)} | {a:,} | {b:,} |" for name, a, b in zip(train.classes, trained, held_out)]
    lines = [f"**{train.num_classes} classes**: {len(train):,} pictures to train on, {len(held):,} held out.", ""]
    if splits.skipped:
        lines += [f"*{escaped(without_paths(splits.skipped))}*", ""]
    return "\n".join(lines + ["| class | train | held out |", "|---|---:|---:|", *rows])


def data_preview(cache: PictureCache, default_train, family_name: str, choice, uploaded,
                 max_bytes: int) -> Tuple[Optional[np.ndarray], str]:
    """/train_data_preview: (the example grid, the counts) of what a run of `family_name` would train on;
    `default_train` loads the family's default splits ((train, held-out) of MNIST)."""
    if not picks_pictures(family_name):
        return None, ""
    if choice == OWN_ZIP and not uploaded:
        return None, (f"Upload a .zip with a folder of pictures per class (`cat/0001.png`, `dog/0001.png` ...), "
                      f"at most {max_bytes:,} bytes; each class needs at least {own_pictures.MIN_PER_CLASS} pictures.")
    chosen = chosen_pictures(cache, family_name, choice, uploaded, max_bytes)
    splits = chosen.splits if chosen is not None else ImageSplits(*default_train())
    return example_grid(splits.train), class_counts(splits)


def class_names(data) -> Sequence[str]:
    """Label i's name of training data (the digits for sets without names, and for text: none)."""
    return tuple(getattr(data, "classes", ()) or ())
