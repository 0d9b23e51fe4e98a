"""What the Train tab says about a run: its status line and its loss history, in the words people read.

A run's status has one shape per state: training (progress bar, speed, ETA), finished, stopped
(by Stop, the wall-time limit or an error; never an ETA) and refused before it started.
"""

import math
import time
from typing import Dict, Iterable, List, Optional

import pandas as pd

from genlab.models.base import Family
from genlab.train.previews import Preview, short_name

HISTORY_POINTS = 400  # loss points kept per series in the plot (older ones thinned)
HELD_OUT = "held-out"  # prefix of series measured on held-out data at previews


def series_name(family: Family, key: str, held_out: bool = False) -> str:
    """A logged value's name in the plot's legend: "D loss", "held-out D loss", "KL"."""
    name = family.loss_names.get(key, key.replace("_", " "))
    return f"{HELD_OUT} {name}" if held_out else name


class LossHistory:
    """The points of a run's loss plot, {"step", "value", "series"}, kept thin enough to send whole."""

    def __init__(self, family: Family, points: Iterable[dict] = ()):
        self.family = family
        self._points: List[dict] = list(points)

    def add(self, step: int, losses: Dict[str, float], held_out: bool = False) -> None:
        self._points += [{"step": step, "value": v, "series": series_name(self.family, k, held_out)}
                         for k, v in losses.items()]

    def points(self) -> List[dict]:
        """At most HISTORY_POINTS evenly spaced points per series, always keeping the latest."""
        by_series: Dict[str, List[dict]] = {}
        for point in self._points:
            by_series.setdefault(point["series"], []).append(point)
        kept = []
        for rows in by_series.values():
            stride = math.ceil(len(rows) / HISTORY_POINTS)
            kept += rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])
        self._points = sorted(kept, key=lambda p: p["step"])
        return self._points

    def frame(self) -> pd.DataFrame:
        return history_frame(self.points())


def history_frame(points: List[dict]) -> pd.DataFrame:
    """Columns step (int), value (float), series (str), typed even when empty: the plot reads an
    untyped empty column as categories and keeps drawing every later number as a category."""
    return pd.DataFrame({"step": pd.Series([p["step"] for p in points], dtype="int64"),
                         "value": pd.Series([p["value"] for p in points], dtype="float64"),
                         "series": pd.Series([p["series"] for p in points], dtype="str")})


def empty_history() -> pd.DataFrame:
    return history_frame([])


def _clock(seconds: float) -> str:
    return time.strftime("%M:%S" if seconds < 3600 else "%H:%M:%S", time.gmtime(seconds))


def _scores(scores: Dict[str, float]) -> str:
    return "".join(f" · {k} {v:.0%}" for k, v in scores.items())


def _data(source: str, note: str) -> str:
    """The data line: where the pictures or text came from, and `note` (which judge scores the preview)."""
    return f"Data: {source}" + (f" · {note}" if note else "")


def training_status(family: Family, progress, source: str, scores: Dict[str, float], note: str = "") -> str:
    """While it trains: bar, share done, step, speed and time left."""
    done = int(20 * progress.fraction)
    eta = "-" if math.isinf(progress.eta) else _clock(progress.eta)
    return (f"**{family.title}** `{'█' * done}{'░' * (20 - done)}` {progress.fraction:.0%} · "
            f"step {progress.step}/{progress.total} · {progress.steps_per_second:.1f} steps/s · ETA {eta}"
            f"{_scores(scores)}\n\n{_data(source, note)}")


def finished_status(family: Family, progress, source: str, scores: Dict[str, float], label: str,
                    note: str = "") -> str:
    return (f"**{family.title}** finished: step {progress.step}/{progress.total} · "
            f"{progress.steps_per_second:.1f} steps/s{_scores(scores)}\n\n{_data(source, note)}\n\n"
            f"*{label}* is now a model choice in its family's tab; **Download model** saves it.")


def stopped_status(label: str, step: int, total: int, reason: str = "") -> str:
    """After Stop, the wall-time limit or a failed step: where it stopped, and that Resume continues."""
    why = f" ({reason})" if reason else ""
    if step <= 0:
        return f"**{label}** stopped before its first checkpoint{why}: press **Start** to train it again."
    return (f"**{label}** stopped at step {step} of {total}{why}. Its checkpoint is kept: "
            f"**Resume** continues from step {step}.")


def refused_status(what: str, message: str, checkpoint: Optional[str] = None) -> str:
    """`what` ("Could not start") and the reason; `checkpoint` says what was kept, if anything."""
    return f"**{what}:** {message}" + (f"\n\n{checkpoint}" if checkpoint else "")


def preparing_status(family: Family, resume: bool) -> str:
    return f"**{family.title}**: {'resuming' if resume else 'preparing'} the run (data, model)…"


def histogram_frame(shot: Preview) -> pd.DataFrame:
    """The judge's predicted class counts, a bar per class named as in the data (label order)."""
    return pd.DataFrame({"class": [short_name(n, limit=12) for n in shot.classes], "count": shot.histogram})
