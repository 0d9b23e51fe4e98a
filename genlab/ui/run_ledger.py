"""What the server keeps about each training run, and when it lets go of it.

A run owns a folder under the runs root (named by the server), its user's text beside it, zips of
it for download, its preview timeline and loss history in memory and the training seconds it has used. Runs that
nobody has touched for `idle_seconds` (a closed tab, an abandoned session) are deleted whole, and
past `max_runs` the least recently used go first, so a public server's memory and disk stay
bounded however many people train and leave.
"""

import io
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, Union

import numpy as np
from PIL import Image

MAX_PREVIEWS = 200  # timeline frames kept per run
MAX_PREVIEW_BYTES = 64 * 1024 * 1024  # all runs' timelines together; the least recently used go first
MAX_HISTORY_POINTS = 4000  # loss-plot points kept per run (the Train tab thins each series to fewer)

Preview = Union[np.ndarray, str]  # an (H, W, 3) uint8 grid or a text sample


@dataclass
class RunEntry:
    seconds: float = 0.0  # trained so far, every start and resume together
    used: float = 0.0  # clock reading of its last use (trained, resumed, sampled from, downloaded)
    previews: List[Union[bytes, str]] = field(default_factory=list)  # timeline: grids as PNG bytes, text samples
    history: List[dict] = field(default_factory=list)  # loss-plot points {"step", "value", "series"}, step order

    @property
    def preview_bytes(self) -> int:
        return sum(len(p) for p in self.previews)


class RunLedger:
    def __init__(self, root: Path, idle_seconds: float = float("inf"), max_runs: float = float("inf"),
                 clock: Callable[[], float] = time.monotonic):
        self.root = root
        self.idle_seconds = idle_seconds
        self.max_runs = max_runs
        self.clock = clock
        self._entries: Dict[str, RunEntry] = {}
        self._active: Set[str] = set()  # runs training now: never deleted under the loop
        self._lock = threading.Lock()

    def touch(self, name: str) -> RunEntry:
        """The entry of run `name`, marked as used now."""
        with self._lock:
            entry = self._entries.setdefault(name, RunEntry())
            entry.used = self.clock()
            return entry

    def exists(self, name: str) -> bool:
        return (self.root / name).is_dir()

    def preview_count(self, name: str) -> int:
        with self._lock:
            entry = self._entries.get(name)
            return len(entry.previews) if entry else 0

    def preview(self, name: str, index: int) -> Optional[Preview]:
        """Frame `index` (clamped) of run `name`'s timeline; None before its first preview."""
        with self._lock:
            entry = self._entries.get(name)
            shots = list(entry.previews) if entry else []
        if not shots:
            return None
        shot = shots[min(max(0, index), len(shots) - 1)]
        return shot if isinstance(shot, str) else np.asarray(Image.open(io.BytesIO(shot)))

    def add_preview(self, name: str, frame: Preview) -> int:
        """Keep `frame` in run `name`'s timeline (the latest MAX_PREVIEWS); how many it now holds.

        Grids are kept as PNG (lossless, a small fraction of the raw pixels); when all timelines
        together pass MAX_PREVIEW_BYTES, those of the least recently used other runs are dropped."""
        if not isinstance(frame, str):
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="PNG")
            frame = buffer.getvalue()
        with self._lock:
            entry = self._entries.setdefault(name, RunEntry(used=self.clock()))
            entry.previews.append(frame)
            del entry.previews[:-MAX_PREVIEWS]
            others = sorted((e.used, n) for n, e in self._entries.items() if n != name and e.previews)
            total = sum(e.preview_bytes for e in self._entries.values())
            for _, other in others:
                if total <= MAX_PREVIEW_BYTES:
                    break
                total -= self._entries[other].preview_bytes
                self._entries[other].previews.clear()
            while total > MAX_PREVIEW_BYTES and len(entry.previews) > 1:
                total -= len(entry.previews.pop(0))
            return len(entry.previews)

    def drop_previews(self, name: str) -> None:
        with self._lock:
            if name in self._entries:
                self._entries[name].previews.clear()

    def history(self, name: str, up_to: int) -> List[dict]:
        """Run `name`'s loss history up to step `up_to` (its checkpoint: later points were not kept)."""
        with self._lock:
            entry = self._entries.get(name)
            return [dict(p) for p in entry.history if p["step"] <= up_to] if entry else []

    def keep_history(self, name: str, points: List[dict]) -> None:
        """Keep `points` (the latest MAX_HISTORY_POINTS) as run `name`'s loss history, so a resumed run
        continues the same curves."""
        with self._lock:
            entry = self._entries.setdefault(name, RunEntry(used=self.clock()))
            entry.history = [dict(p) for p in points[-MAX_HISTORY_POINTS:]]

    def seconds_used(self, name: str) -> float:
        with self._lock:
            entry = self._entries.get(name)
            return entry.seconds if entry else 0.0

    def add_seconds(self, name: str, seconds: float) -> None:
        self.touch(name).seconds += seconds

    def is_training(self, name: str) -> bool:
        with self._lock:
            return name in self._active

    def training(self, name: str, active: bool) -> None:
        with self._lock:
            (self._active.add if active else self._active.discard)(name)
            if name in self._entries:
                self._entries[name].used = self.clock()

    def forget(self, names: Iterable[str]) -> List[str]:
        """Delete these runs (folder, text, zips, timeline) unless they are training; the names deleted."""
        deleted = []
        for name in names:
            with self._lock:
                if name in self._active:
                    continue
                self._entries.pop(name, None)
            for path in [self.root / name, self.root / f"{name}.txt", *self.root.glob(f"{name}-*.zip")]:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                elif path.exists():
                    path.unlink(missing_ok=True)
            deleted.append(name)
        return deleted

    def sweep(self, room: int = 0) -> List[str]:
        """Delete every run idle for longer than `idle_seconds`, then the least recently used ones until
        `room` more fit under `max_runs`; never one that is training. The names deleted."""
        now = self.clock()
        with self._lock:
            idle = [name for name, entry in self._entries.items()
                    if now - entry.used > self.idle_seconds and name not in self._active]
            rest = sorted((entry.used, name) for name, entry in self._entries.items()
                          if name not in idle and name not in self._active)
            excess = len(self._entries) - len(idle) + room - self.max_runs
            if excess > 0:
                idle += [name for _, name in rest[:int(excess)]]
        return self.forget(idle)

    def forget_session(self, session) -> List[str]:
        """A browser session has gone (Gradio deleted its state): delete its runs."""
        runs = (session or {}).get("runs", {}) if isinstance(session, dict) else {}
        return self.forget(run["folder"] for run in runs.values() if isinstance(run, dict) and "folder" in run)
