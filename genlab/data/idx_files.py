"""The one reader of IDX image sets (MNIST, Fashion-MNIST, KMNIST): each set is an `IdxSet` entry of
data (file names, checksums, shapes, mirrors, class names), read by the same functions.

Lookup order: $GENLAB_DATA_DIR (the folder itself for MNIST, as ever; `<name>/` inside it or beside it
for the others), then `<name>/` in genlab's user cache, then a download from the set's mirrors into
that cache. Every file is checked by SHA-256 before use. Messages name settings and places as
people know them, never a folder of this machine: the web app shows them to visitors of a server.
"""

import hashlib
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

import numpy as np

from genlab.data.download import DataError, cache_root, download_checked
from genlab.data.labelled_images import LabelledImages, combined_sha256

_IDX_DTYPE = {0x08: np.uint8}  # these sets only use unsigned bytes
MAX_DOWNLOAD_BYTES = 100_000_000  # one file; the largest of these sets' files is 26.4 MB


@dataclass(frozen=True)
class IdxSet:
    """One IDX image set as data: what its four files are called, hold and hash to, and where to get them."""

    name: str  # registry key and folder name: "fashion-mnist"
    title: str  # as people write it: "Fashion-MNIST"
    classes: Tuple[str, ...]  # label i's name
    files: Mapping[str, Tuple[str, Tuple[int, ...]]]  # base name -> (SHA-256, shape of the array inside)
    mirrors: Tuple[str, ...]  # URL prefixes, tried in order, for `<base name>.gz`
    hashed: str = "gz"  # "gz": the SHA-256 is of the .gz file as published; "raw": of the decompressed bytes
    in_data_dir: bool = False  # True: the files lie in $GENLAB_DATA_DIR itself (MNIST's layout), not in <name>/
    noun: str = "images"  # what the pictures are, in `source`: "60000 digits"

    def cache(self) -> Path:
        return cache_root() / self.name

    def file_names(self) -> List[str]:
        return [base + ".gz" for base in self.files]


class FilesMissing(DataError):
    """An IDX set's file is nowhere it was looked for (and could not be downloaded, if that was tried)."""

    def __init__(self, idx_set: IdxSet, base: str, download_failure: Optional[str]):
        self.idx_set, self.base, self.download_failure = idx_set, base, download_failure
        places = "; ".join(settings_places(idx_set))
        failed = f"; and the download failed ({download_failure})" if download_failure else ""
        super().__init__(
            f"{idx_set.title} not found: {base}.gz is in none of: {places}{failed}. Put its four files "
            f"({', '.join(idx_set.file_names())}, from {idx_set.mirrors[0] if idx_set.mirrors else 'its publisher'}) "
            f"in $GENLAB_DATA_DIR/{idx_set.name}/ or in {idx_set.name}/ in genlab's user cache "
            f"(genlab/ in $XDG_CACHE_HOME or ~/.cache)."
        )


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


MAX_IDX_BYTES = 100_000_000  # any single IDX file genlab reads (MNIST's largest unpacks to 47 MB)


def decompressed(blob: bytes, label: str, limit: int = MAX_IDX_BYTES) -> bytes:
    """The bytes of a raw or gzipped file, at most `limit` of them (more: a decompression bomb, or
    not the file it claims to be), with a clear error for corrupt compression."""
    if blob[:2] != b"\x1f\x8b":
        raw = blob
    else:
        try:
            inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
            raw = inflate.decompress(blob, limit + 1)
        except zlib.error as err:
            raise DataError(f"{label}: cannot read or decompress ({err})") from err
        if len(raw) <= limit and not inflate.eof:
            raise DataError(f"{label}: cannot read or decompress (the gzip stream ends early: a truncated file)")
    if len(raw) > limit:
        raise DataError(f"{label}: unpacks to more than the {limit:,} bytes this file has; it is not the official file")
    return raw


def read_bytes(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:  # its text would name the path: say only why
        raise DataError(f"{label}: cannot read or decompress ({err.strerror or type(err).__name__})") from err


def data_dir_folders(idx_set: IdxSet) -> List[Path]:
    """The folders $GENLAB_DATA_DIR offers, when set: itself (MNIST), or <name>/ inside it and beside it
    (beside: the layout where $GENLAB_DATA_DIR is the MNIST folder, as in ../shared/data)."""
    env = os.environ.get("GENLAB_DATA_DIR")
    if not env:
        return []
    return [Path(env)] if idx_set.in_data_dir else [Path(env) / idx_set.name, Path(env).parent / idx_set.name]


def search_folders(idx_set: IdxSet) -> List[Path]:
    """Where the set's files are looked for, in order."""
    return data_dir_folders(idx_set) + [idx_set.cache()]


def settings_places(idx_set: IdxSet) -> List[str]:
    """`search_folders` as a message names them: by setting, never by this machine's paths."""
    inside = (["$GENLAB_DATA_DIR"] if idx_set.in_data_dir else
              [f"$GENLAB_DATA_DIR/{idx_set.name}/", f"{idx_set.name}/ beside $GENLAB_DATA_DIR"])
    return inside + [f"{idx_set.name}/ in genlab's user cache"]


def candidates(folder: Path, idx_set: IdxSet, base: str) -> List[Path]:
    """A file's possible names in one folder: .gz always, raw too when the checksum is of the raw bytes."""
    return [folder / (base + ".gz")] + ([folder / base] if idx_set.hashed == "raw" else [])


def find_file(idx_set: IdxSet, base: str) -> Optional[Path]:
    return next((p for f in search_folders(idx_set) for p in candidates(f, idx_set, base) if p.is_file()), None)


def find_folder(idx_set: IdxSet) -> Optional[Path]:
    """The first folder holding all four files, without reading them."""
    for folder in search_folders(idx_set):
        if all(any(p.is_file() for p in candidates(folder, idx_set, base)) for base in idx_set.files):
            return folder
    return None


def checked(idx_set: IdxSet, path: Path, base: str) -> Tuple[np.ndarray, str]:
    """(the array in `path`, the SHA-256 it was checked by); DataError unless both match the set's table."""
    label = f"{idx_set.title} {base}"
    digest, shape = idx_set.files[base]
    mismatch = DataError(f"{label}: contents do not match the official {base} (checksum or shape differs)")
    blob = read_bytes(path, label)
    if idx_set.hashed != "raw" and hashlib.sha256(blob).hexdigest() != digest:
        raise mismatch  # checked before anything is unpacked: the mirrors are plain http
    raw = decompressed(blob, label, limit=4 + 4 * len(shape) + math.prod(shape))  # IDX header + one byte a value
    array = parse_idx(raw, label)
    actual = hashlib.sha256(raw if idx_set.hashed == "raw" else blob).hexdigest()
    if array.shape != tuple(shape) or actual != digest:
        raise mismatch
    return array, actual


def download(idx_set: IdxSet, base: str, timeout: float) -> Path:
    """`base`.gz from the first mirror that serves it whole and right, into the set's cache folder."""
    errors = []
    for mirror in idx_set.mirrors:
        url = mirror + base + ".gz"
        try:
            return download_checked(url, idx_set.cache() / (base + ".gz"), lambda part: checked(idx_set, part, base),
                                    timeout, limit=MAX_DOWNLOAD_BYTES)
        except (OSError, DataError) as err:
            reason = err if isinstance(err, DataError) else getattr(err, "reason", None) or type(err).__name__
            errors.append(f"{url}: {reason}")
    raise DataError("; ".join(errors) or "no mirror is known")


def load_split(idx_set: IdxSet, split: str = "train", *, download_missing: bool = True,
               timeout: float = 10.0) -> LabelledImages:
    """One split ("train" or "test") of an IDX set, checked; FilesMissing names every place tried."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    prefix = "train" if split == "train" else "t10k"
    arrays, digests = [], []
    for base in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        path, failure = find_file(idx_set, base), None
        if path is None and download_missing:
            try:
                path = download(idx_set, base, timeout)
            except DataError as err:
                failure = str(err)
        if path is None:
            raise FilesMissing(idx_set, base, failure)
        array, digest = checked(idx_set, path, base)
        arrays.append(array)
        digests.append((base, digest))
    images, labels = arrays[0], arrays[1].astype(np.int64)
    if len(images) != len(labels) or (len(labels) and labels.max() >= len(idx_set.classes)):
        raise DataError(f"{idx_set.title} {split}: images and labels do not match")
    provenance = {"name": idx_set.name, "files": len(digests), "sha256": combined_sha256(digests)}
    return LabelledImages(images, labels, f"{idx_set.title} {split} (full, {len(labels)} {idx_set.noun})",
                          idx_set.classes, provenance)

