"""MNIST from the official IDX files (numpy only), the bundled sample, and endless batch iterators.

Lookup order for the full set: $GENLAB_DATA_DIR, then the user cache dir, then a download from
the canonical mirrors. Files are checked by the SHA-256 of their *decompressed* bytes, so any
gzip re-packing of the official files is accepted and any corruption is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from genlab.data.download import DataError, cache_root, download_checked

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
_IDX_DTYPE = {0x08: np.uint8}  # MNIST only uses unsigned bytes


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black, as in MNIST
    labels: np.ndarray  # (N,) int64 in 0..9
    source: str  # where they came from, shown to users ("MNIST (full)", "bundled sample")

    def __len__(self) -> int:
        return len(self.labels)


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes (magic 0x0000TTDD, then DD big-endian uint32 dims, then data)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number)")
    dtype, ndim = raw[2], raw[3]
    if dtype not in _IDX_DTYPE or not 1 <= ndim <= 4:
        raise DataError(f"{name}: unsupported IDX type 0x{dtype:02x} with {ndim} dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * np.dtype(_IDX_DTYPE[dtype]).itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{name}: truncated or padded IDX file: header promises {expected} bytes of data, "
            f"found {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=_IDX_DTYPE[dtype], offset=header).reshape(shape).copy()  # writable


def read_raw(path: Path) -> bytes:
    """The bytes of a raw or gzipped file, with a clear error for unreadable or corrupt compression."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot read or decompress ({err})") from err


def read_idx(path: Path) -> np.ndarray:
    return parse_idx(read_raw(path), str(path))


def cache_dir() -> Path:
    return cache_root() / "mnist"


def _candidates(folder: Path, name: str) -> list:
    return [folder / (name + ".gz"), folder / name]


def _find(folder: Path, name: str) -> Optional[Path]:
    return next((p for p in _candidates(folder, name) if p.is_file()), None)


def _checked(path: Path, name: str) -> np.ndarray:
    raw = read_raw(path)
    array = parse_idx(raw, str(path))
    digest, shape = MNIST_FILES[name]
    if array.shape != shape or hashlib.sha256(raw).hexdigest() != digest:
        raise DataError(f"{path}: contents do not match the official {name} (checksum or shape differs)")
    return array


def _download(folder: Path, name: str, timeout: float) -> Path:
    errors = []
    for mirror in MIRRORS:
        url = mirror + name + ".gz"
        try:
            return download_checked(url, folder / (name + ".gz"), lambda part: _checked(part, name), timeout)
        except (OSError, DataError) as err:
            errors.append(f"{url}: {err}")
    raise DataError("; ".join(errors))


def _search_folders() -> list:
    """Where MNIST is looked for, in order: $GENLAB_DATA_DIR (when set), then the user cache."""
    env = os.environ.get("GENLAB_DATA_DIR")
    return ([Path(env)] if env else []) + [cache_dir()]


def find_mnist() -> Optional[Path]:
    """The first folder ($GENLAB_DATA_DIR, the cache) holding all four MNIST files, without reading them."""
    for folder in _search_folders():
        if all(_find(folder, name) for name in MNIST_FILES):
            return folder
    return None


def load_mnist(split: str = "train", *, download: bool = True, timeout: float = 10.0) -> Digits:
    """The full MNIST split ("train" or "test"); raises DataError naming every place tried."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    prefix = "train" if split == "train" else "t10k"
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    folders = _search_folders()
    tried = []
    arrays = []
    for name in names:
        path = next((p for p in (_find(f, name) for f in folders) if p is not None), None)
        if path is None and download:
            try:
                path = _download(cache_dir(), name, timeout)
            except DataError as err:
                tried.append(f"download ({err})")
        if path is None:
            places = [str(c) for f in folders for c in _candidates(f, name)] + tried
            raise DataError(
                f"MNIST file {name}(.gz) not found. Tried: " + "; ".join(places) + ". Put the four official "
                "MNIST IDX files (raw or .gz) in a folder and set GENLAB_DATA_DIR to it, or copy them to "
                f"{cache_dir()}."
            )
        arrays.append(_checked(path, name))
    return Digits(arrays[0], arrays[1].astype(np.int64), f"MNIST {split} (full, {len(arrays[1])} digits)")


def load_sample(split: str = "train") -> Digits:
    """The small stratified real MNIST sample shipped inside the package."""
    with np.load(SAMPLE_PATH, allow_pickle=False) as npz:
        return Digits(npz[f"{split}_images"], npz[f"{split}_labels"].astype(np.int64),
                      f"bundled MNIST sample ({split}, {len(npz[f'{split}_labels'])} digits)")


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
