"""What every data source shares: its error type, the user cache and checked downloads."""

import os
import urllib.request
from pathlib import Path
from typing import Callable, Optional


class DataError(RuntimeError):
    """Data is missing, corrupt or unreadable; the message says what to do."""


def cache_root() -> Path:
    """genlab's folder in the user cache ($XDG_CACHE_HOME, else ~/.cache); one subfolder per source."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "genlab"


def download_checked(url: str, target: Path, check: Callable[[Path], object], timeout: float,
                     limit: Optional[int] = None) -> Path:
    """Fetch `url` (at most `limit` bytes) to `target`, atomically: it is written to `target`.part
    and renamed only once `check(part)` accepts it; a DataError from `check` removes the part."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        blob = response.read(limit)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(blob)
    try:
        check(part)
    except DataError:
        part.unlink()
        raise
    os.replace(part, target)
    return target
