"""What every image data source loads into: 28x28 grey pictures with class labels, the class names
and a provenance record a training run can keep; and the held-out split for sets without one."""

import hashlib
from dataclasses import dataclass, field
from typing import Dict, Iterable, Tuple

import numpy as np

DIGIT_CLASSES = tuple("0123456789")  # MNIST's classes, and the default for sets made before names existed
HELD_OUT_FRACTION = 0.1  # the last 10% of each class (at least one picture) is held out for testing


@dataclass(frozen=True)
class LabelledImages:
    """One split of a labelled image set; `mnist.Digits` is this type under its old name."""

    images: np.ndarray  # (N, 28, 28) uint8, white ink on black, as in MNIST
    labels: np.ndarray  # (N,) int64 in 0 .. len(classes) - 1
    source: str  # where they came from, shown to users ("MNIST (full)", "bundled sample", "pets.zip ...")
    classes: Tuple[str, ...] = DIGIT_CLASSES  # label i's name
    provenance: Dict[str, object] = field(default_factory=dict)  # {name, files, sha256}: JSON for training.json

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        """How many classes a conditional model or a judge trained on this set needs."""
        return len(self.classes)


@dataclass(frozen=True)
class ImageSplits:
    """A whole set, as loaded: its training and held-out splits, and what was left out on the way in."""

    train: LabelledImages
    test: LabelledImages
    skipped: str = ""  # "skipped 3 of 412 files: notes.txt, ..." for a user's pictures; "" when none were

    def split(self, which: str) -> LabelledImages:
        if which not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {which!r}")
        return self.train if which == "train" else self.test


def combined_sha256(named_digests: Iterable[Tuple[str, str]]) -> str:
    """One SHA-256 for a set of files: of the sorted "name sha256" lines, so it changes with any file's
    contents or name and not with the order the files were read in."""
    lines = "".join(f"{name}\0{digest}\n" for name, digest in sorted(named_digests))
    return hashlib.sha256(lines.encode("utf-8", errors="surrogatepass")).hexdigest()


def held_out_mask(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) bool, True for the last HELD_OUT_FRACTION of each class in the given order (at least one).

    Deterministic: the caller orders pictures (by file name within a class), and the same files give
    the same split on every machine."""
    mask = np.zeros(len(labels), dtype=bool)
    for label in range(num_classes):
        where = np.flatnonzero(labels == label)
        count = max(1, int(len(where) * HELD_OUT_FRACTION)) if len(where) else 0
        mask[where[len(where) - count:]] = True
    return mask
