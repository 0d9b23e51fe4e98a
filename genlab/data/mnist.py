"""MNIST from the official IDX files (read by genlab.data.idx_files, the one IDX reader), the bundled
sample, and endless batch iterators.

Lookup order for the full set: $GENLAB_DATA_DIR, then the user cache dir, then a download from
the canonical mirrors. Files are checked by the SHA-256 of their *decompressed* bytes, so any
gzip re-packing of the official files is accepted and any corruption is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from genlab.data import idx_files
from genlab.data.download import DataError
from genlab.data.idx_files import parse_idx  # public here since before idx_files existed
from genlab.data.labelled_images import DIGIT_CLASSES, LabelledImages

SAMPLE_PATH = Path(__file__).parent / "assets" / "mnist_sample.npz"

# name -> (sha256 of the raw IDX bytes, expected shape)
MNIST_FILES = {
    "train-images-idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", (60000, 28, 28)),
    "train-labels-idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", (60000,)),
    "t10k-images-idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", (10000,)),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

Digits = LabelledImages  # MNIST's name for the type every image set loads into (classes "0".."9")


def idx_set() -> idx_files.IdxSet:
    """MNIST as an IDX set entry, built when asked, so MNIST_FILES and MIRRORS can be replaced (tests do)."""
    return idx_files.IdxSet(name="mnist", title="MNIST", classes=DIGIT_CLASSES, files=MNIST_FILES, mirrors=MIRRORS,
                            hashed="raw", in_data_dir=True, noun="digits")


def cache_dir() -> Path:
    return idx_set().cache()


def find_mnist() -> Optional[Path]:
    """The first folder ($GENLAB_DATA_DIR, the cache) holding all four MNIST files, without reading them."""
    return idx_files.find_folder(idx_set())


def load_mnist(split: str = "train", *, download: bool = True, timeout: float = 10.0) -> Digits:
    """The full MNIST split ("train" or "test"); raises DataError naming every place tried.

    Unlike the other sets' messages this one names folders: its callers are the CLI and scripts (the
    web app falls back to the bundled sample), and it has always said where it looked."""
    entry = idx_set()
    try:
        return idx_files.load_split(entry, split, download_missing=download, timeout=timeout)
    except idx_files.FilesMissing as err:
        folders = idx_files.search_folders(entry)
        places = [str(c) for f in folders for c in idx_files.candidates(f, entry, err.base)]
        tried = [f"download ({err.download_failure})"] if err.download_failure else []
        raise DataError(
            f"MNIST file {err.base}(.gz) not found. Tried: " + "; ".join(places + tried) + ". Put the four "
            "official MNIST IDX files (raw or .gz) in a folder and set GENLAB_DATA_DIR to it, or copy them to "
            f"{cache_dir()}."
        ) from None


def load_sample(split: str = "train") -> Digits:
    """The small stratified real MNIST sample shipped inside the package."""
    provenance = {"name": "mnist-sample", "files": 1, "sha256": hashlib.sha256(SAMPLE_PATH.read_bytes()).hexdigest()}
    with np.load(SAMPLE_PATH, allow_pickle=False) as npz:
        labels = npz[f"{split}_labels"].astype(np.int64)
        return Digits(npz[f"{split}_images"], labels, f"bundled MNIST sample ({split}, {len(labels)} digits)",
                      DIGIT_CLASSES, provenance)


def load_digits(split: str = "train", *, allow_sample: bool = True, download: bool = False) -> Digits:
    """Full MNIST when available, else (if allowed) the bundled sample; `.source` says which."""
    try:
        return load_mnist(split, download=download)
    except DataError:
        if not allow_sample:
            raise
        return load_sample(split)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [-1, 1], genlab's image convention."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(127.5).sub_(1.0).unsqueeze(1)


def image_batches(digits: Digits, batch_size: int, *, seed: int = 0,
                  device: torch.device | str = "cpu", skip: int = 0) -> Iterator[tuple]:
    """Endless shuffled (images (B, 1, 28, 28) in [-1, 1], labels (B,)) batches; reshuffles each epoch.

    `skip` batches are passed over first (without touching the images), so a resumed run sees
    exactly the batches an uninterrupted one would have seen.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    images = to_tensor(digits.images).to(device)
    labels = torch.from_numpy(digits.labels).to(device)
    generator = torch.Generator().manual_seed(seed)
    n = len(labels)
    starts = range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size)
    while True:
        order = torch.randperm(n, generator=generator)
        if skip >= len(starts):
            skip -= len(starts)
            continue
        order = order.to(device)
        for start in starts[skip:]:
            index = order[start:start + batch_size]
            yield images[index], labels[index]
        skip = 0
