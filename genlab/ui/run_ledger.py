"""What the server keeps about each training run, and when it lets go of it.

A run owns a folder under the runs root (named by the server), its user's text beside it, zips of
it for download, its preview timeline in memory and the training seconds it has used. Runs that
nobody has touched for `idle_seconds` (a closed tab, an abandoned session) are deleted whole, so a
public server's memory and disk stay bounded however many people train and leave.
"""

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Set

MAX_PREVIEWS = 200  # timeline frames kept per run


@dataclass
class RunEntry:
    seconds: float = 0.0  # trained so far, every start and resume together
    used: float = 0.0  # clock reading of its last use (trained, resumed, sampled from, downloaded)
    previews: List = field(default_factory=list)  # timeline frames: (H, W, 3) uint8 grids or text samples


class RunLedger:
    def __init__(self, root: Path, idle_seconds: float = float("inf"), clock: Callable[[], float] = time.monotonic):
        self.root = root
        self.idle_seconds = idle_seconds
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

    def previews(self, name: str) -> List:
        with self._lock:
            entry = self._entries.get(name)
            return entry.previews if entry else []

    def add_preview(self, name: str, frame) -> int:
        """Keep `frame` in run `name`'s timeline (the latest MAX_PREVIEWS); how many it now holds."""
        with self._lock:
            shots = self._entries.setdefault(name, RunEntry(used=self.clock())).previews
            shots.append(frame)
            del shots[:-MAX_PREVIEWS]
            return len(shots)

    def seconds_used(self, name: str) -> float:
        with self._lock:
            entry = self._entries.get(name)
            return entry.seconds if entry else 0.0

    def add_seconds(self, name: str, seconds: float) -> None:
        self.touch(name).seconds += seconds

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

    def sweep(self) -> List[str]:
        """Delete every run idle for longer than `idle_seconds`; the names deleted."""
        if self.idle_seconds == float("inf"):
            return []
        now = self.clock()
        with self._lock:
            idle = [name for name, entry in self._entries.items()
                    if now - entry.used > self.idle_seconds and name not in self._active]
        return self.forget(idle)

    def forget_session(self, session) -> List[str]:
        """A browser session has gone (Gradio deleted its state): delete its runs."""
        runs = (session or {}).get("runs", {}) if isinstance(session, dict) else {}
        return self.forget(run["folder"] for run in runs.values() if isinstance(run, dict) and "folder" in run)
