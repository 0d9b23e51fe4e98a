"""The files of a user's picture set, a zip (bytes or a path) or a folder of class folders, listed and
read in memory after every bound is checked: nothing is extracted, nothing written.

A zip is refused before any member is read when an entry is a symlink, encrypted, has an absolute
path or a `..` part, when it holds more than MAX_FILES files, or when its central directory promises
more bytes than `max_unpacked` or MAX_RATIO times its own size (a decompression bomb). A folder is
refused when it holds a link. OS metadata (`__MACOSX/`, dotfiles, Thumbs.db) is left out quietly.
"""

import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

from genlab.data import preprocess
from genlab.data.download import DataError

MAX_FILES = 20_000  # files in one set: more is not a "small labelled image set"
MAX_PICTURE_BYTES = preprocess.MAX_BYTES  # one file: the same bound as a single uploaded picture
CLI_MAX_BYTES = 500_000_000  # the zip (or folder) a CLI user may give; the web form passes its own (5 MB)
MAX_UNPACKED_BYTES = 1_000_000_000  # what a zip may unpack to, at most
MAX_RATIO = 100  # unpacked / packed size above which a large zip is taken for a bomb (PNG/JPEG barely compress)
RATIO_FLOOR = 50_000_000  # below this many unpacked bytes a high ratio is harmless (tiny BMPs compress well)
_METADATA = {"__MACOSX", "Thumbs.db", "desktop.ini"}

PictureSource = Union[bytes, bytearray, memoryview, str, os.PathLike]


@dataclass(frozen=True)
class PictureFiles:
    """The files of a picture set, checked: their relative paths and how to read each one."""

    name: str  # the zip's or folder's own name (never a path): shown, and kept in provenance
    paths: Tuple[str, ...]  # "cat/0001.png", "/"-separated, sorted, a shared top folder removed
    read: Callable[[str], bytes]  # a path of `paths` -> its bytes
    sha256: Optional[str]  # of the zip's bytes; None for a folder (the loader hashes its files as it reads them)
    ignored: int = 0  # OS metadata files left out


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{size / 1e3:.0f} kB"


def _metadata(parts: List[str]) -> bool:
    return any(p.startswith(".") or p in _METADATA for p in parts)


def _strip_shared_top(paths: List[str]) -> dict:
    """{shown path: stored path}, without a top folder every file shares ("pets/cat/1.png" -> "cat/1.png")."""
    shown = {p: p for p in paths}
    while (any(s.count("/") >= 2 for s in shown) and all("/" in s for s in shown)
           and len({s.split("/", 1)[0] for s in shown}) == 1):
        shown = {s.split("/", 1)[1]: p for s, p in shown.items()}
    return shown


def _entry_problem(info: zipfile.ZipInfo) -> Optional[str]:
    """Why a zip entry is refused, or None."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in name.split("/"):
        return "reaches outside the zip with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def zip_files(blob: bytes, name: str, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> PictureFiles:
    """The checked listing of a zip's bytes; DataError, before any member is read, for anything unsafe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        raise DataError(f"{name} is not a readable zip file") from None
    infos = archive.infolist()
    if len(infos) > MAX_FILES:
        raise DataError(f"{name} holds {len(infos):,} entries; at most {MAX_FILES:,} files are accepted")
    for info in infos:
        problem = _entry_problem(info)
        if problem:
            raise DataError(f"{name} refused: the entry {info.filename!r} {problem}")
    files = {i.filename.replace("\\", "/"): i for i in infos if not i.is_dir()}
    unpacked = sum(i.file_size for i in files.values())
    if unpacked > max_unpacked:
        raise DataError(f"{name} refused: it would unpack to {_mb(unpacked)}, more than {_mb(max_unpacked)}")
    if unpacked > RATIO_FLOOR and unpacked > MAX_RATIO * len(blob):
        raise DataError(f"{name} refused: it would unpack to {_mb(unpacked)}, more than {MAX_RATIO} times its own "
                        f"{_mb(len(blob))} (a decompression bomb?)")
    big = next((p for p, i in files.items() if i.file_size > MAX_PICTURE_BYTES), None)
    if big:
        raise DataError(f"{name} refused: {big} is {_mb(files[big].file_size)}; at most "
                        f"{_mb(MAX_PICTURE_BYTES)} a picture")
    kept = [p for p in files if not _metadata(p.split("/"))]
    shown = _strip_shared_top(kept)

    def read(path: str) -> bytes:
        info = files[shown[path]]
        try:
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)  # never more than the directory promised, plus one to notice
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError) as err:
            raise DataError(f"{name} is damaged at {path} ({type(err).__name__}: {err})") from None
        if len(data) > info.file_size:
            raise DataError(f"{name} refused: {path} holds more than the {info.file_size:,} bytes its entry declares")
        return data

    return PictureFiles(name, tuple(sorted(shown)), read, hashlib.sha256(blob).hexdigest(), len(files) - len(kept))


def folder_files(root: Path, *, max_bytes: int = CLI_MAX_BYTES) -> PictureFiles:
    """The checked listing of a folder of class folders; DataError for a link, too many files or bytes."""
    found, total, ignored = [], 0, 0
    pending = [(root, [])]
    while pending:
        folder, parts = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                inner = parts + [entry.name]
                if entry.is_symlink():
                    raise DataError(f"{root.name} refused: {'/'.join(inner)} is a link (copy the file in instead)")
                if _metadata(inner):
                    ignored += 1
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), inner))
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    if size > MAX_PICTURE_BYTES:
                        raise DataError(f"{root.name} refused: {'/'.join(inner)} is {_mb(size)}; at most "
                                        f"{_mb(MAX_PICTURE_BYTES)} a picture")
                    found.append("/".join(inner))
                    total += size
                else:  # a socket, a device, a pipe: not a picture, and not worth a mention
                    ignored += 1
                if len(found) > MAX_FILES:
                    raise DataError(f"{root.name} holds more than {MAX_FILES:,} files; at most {MAX_FILES:,} "
                                    "are accepted")
                if total > max_bytes:
                    raise DataError(f"{root.name} holds more than {_mb(max_bytes)} of files; at most "
                                    f"{_mb(max_bytes)} are accepted")
    shown = _strip_shared_top(found)

    def read(path: str) -> bytes:
        try:
            return (root / shown[path]).read_bytes()
        except OSError as err:
            raise DataError(f"{root.name}: cannot read {path} ({err.strerror or type(err).__name__})") from None

    return PictureFiles(root.name, tuple(sorted(shown)), read, None, ignored)


def picture_files(source: PictureSource, *, name: Optional[str] = None, max_bytes: int = CLI_MAX_BYTES,
                  max_unpacked: int = MAX_UNPACKED_BYTES) -> PictureFiles:
    """Zip bytes, a .zip file or a folder -> its checked listing; `max_bytes` bounds the zip (or the folder)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        blob, label = bytes(source), name or "the zip"
    else:
        path = Path(source)
        label = name or path.name
        if path.is_dir():
            return folder_files(path, max_bytes=max_bytes)
        if not path.is_file():
            raise DataError(f"{label}: no such file or folder")
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(f"{label} is {_mb(size)}; at most {_mb(max_bytes)} is accepted")
        blob = path.read_bytes()
    if len(blob) > max_bytes:
        raise DataError(f"{label} is {_mb(len(blob))}; at most {_mb(max_bytes)} is accepted")
    return zip_files(blob, label, max_unpacked=max_unpacked)
