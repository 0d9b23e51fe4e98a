"""One live training run for the Train tab: validate, train with the one loop, stream frames.

Everything here is plain Python (no widgets), so tests drive a run exactly as the tab does.
A run lives in a server-owned folder named by us; the user's session only holds run labels.
"""

import math
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import numpy as np
import pandas as pd
import torch

from genlab import checkpoints, datasets, images, params, previews, weights
from genlab.limits import LOCAL, TrainLimits, check as check_limits
from genlab.models import TrainConfig, get_family
from genlab.params import RequestError
from genlab.training import train
from genlab.ui.store import ModelStore

HISTORY_POINTS = 400  # loss points kept per series in the plot (older ones thinned)
STREAM_SECONDS = 1.0  # at most this often a frame is sent between previews
PREVIEW_SECONDS = 4.0  # and previews (samples, judge, held-out losses) at most this often
SAVE_SECONDS = 60.0  # checkpoint at least this often (and always when the run stops)
HELD_OUT = 128  # held-out examples scored at every preview
MAX_PREVIEWS = 200  # timeline frames kept per run


@dataclass
class TrainContext:
    """What every run of one app shares: models, limits, the runs folder and the one-run lock."""

    store: ModelStore
    limits: TrainLimits = LOCAL
    busy: threading.Lock = field(default_factory=threading.Lock)
    previews: Dict[str, List[np.ndarray]] = field(default_factory=dict)  # run folder name -> preview frames
    _datasets: Dict[str, object] = field(default_factory=dict)

    def dataset(self, kind: str, split: str):
        key = f"{kind}/{split}"
        if key not in self._datasets:
            self._datasets[key] = datasets.DATASETS[kind].load(split, download=False)
        return self._datasets[key]


@dataclass
class Frame:
    """One update of the tab while a run trains."""

    status: str  # markdown: progress, speed, ETA, data source, notes
    history: pd.DataFrame  # columns step, value, series
    preview: Optional[np.ndarray]  # a new annotated preview grid (H, W, 3) uint8, None: unchanged
    histogram: Optional[pd.DataFrame]  # columns digit, count: the judge's view of it, None: unchanged
    previews: int  # previews so far (kept on the server for the timeline: TrainContext.preview)
    session: dict  # {"runs": {label: {"family", "folder"}}, "current": label}
    step: int = 0
    done: bool = False


def new_session() -> dict:
    return {"runs": {}, "current": None}


def checked_run(ctx: TrainContext, family_name: str, recipe_values: dict, config_values: dict):
    """Family, recipe and config from form values, within field bounds and server limits."""
    family = get_family(family_name)
    recipe = params.build(TrainConfig, recipe_values)
    config = params.build(family.config_cls, config_values)
    _check_limits(ctx, family, recipe, config)
    return family, recipe, config


def _check_limits(ctx: TrainContext, family, recipe: TrainConfig, config) -> None:
    with torch.device("meta"):  # count parameters without allocating them
        check_limits(recipe, family.model_cls(config), ctx.limits)


def _thin(points: List[dict]) -> List[dict]:
    """At most HISTORY_POINTS evenly spaced points per series, always keeping the latest."""
    by_series: Dict[str, List[dict]] = {}
    for point in points:
        by_series.setdefault(point["series"], []).append(point)
    kept = []
    for rows in by_series.values():
        stride = math.ceil(len(rows) / HISTORY_POINTS)
        kept += rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])
    return kept


def _status(family, progress, source: str, scores: Dict[str, float], note: str = "") -> str:
    bar = "█" * int(20 * progress.fraction) + "░" * (20 - int(20 * progress.fraction))
    eta = "-" if math.isinf(progress.eta) else time.strftime("%M:%S", time.gmtime(progress.eta))
    extra = " · ".join(f"{k} {v:.0%}" for k, v in scores.items())
    text = (f"**{family.title}** `{bar}` {progress.fraction:.0%} · step {progress.step}/{progress.total} · "
            f"{progress.steps_per_second:.1f} steps/s · ETA {eta}" + (f" · {extra}" if extra else "") +
            f"\n\nData: {source}")
    return text + (f"\n\n**{note}**" if note else "")


def stream_run(ctx: TrainContext, family_name: str, recipe_values: dict, config_values: dict,
               session: Optional[dict], *, resume: bool = False, preview_every: int = 0) -> Iterator[Frame]:
    """Train a new run (or resume this session's current one) and yield frames while it trains."""
    session = {"runs": dict((session or {}).get("runs", {})), "current": (session or {}).get("current")}
    if resume:
        folder = ctx.store.run_folder(session, session["current"])
        family = get_family(session["runs"][session["current"]]["family"])
        saved_recipe = checkpoints.read_recipe(folder)
        # a resume continues the saved recipe; only `steps` may grow, to train a finished run longer
        recipe = params.build(TrainConfig, {**saved_recipe, "steps": recipe_values.get("steps", saved_recipe["steps"])})
        config = weights.read_config(family, folder)
        _check_limits(ctx, family, recipe, config)
        if checkpoints.read_step(folder) >= recipe.steps:
            raise RequestError(f"this run already finished its {recipe.steps} steps; raise steps to continue it")
    else:
        family, recipe, config = checked_run(ctx, family_name, recipe_values, config_values)
    if not ctx.busy.acquire(blocking=False):
        raise RequestError("another training run is in progress on this server; it will be free when it ends")
    try:
        yield from _train(ctx, family, recipe, config, session, resume, preview_every)
    finally:
        ctx.busy.release()


def _train(ctx, family, recipe, config, session, resume, preview_every) -> Iterator[Frame]:
    if resume:
        label = session["current"]
        folder = ctx.store.run_folder(session, label)
    else:
        label = f"{family.name} run {sum(r['family'] == family.name for r in session['runs'].values()) + 1}"
        name = f"{family.name}-{uuid.uuid4().hex[:12]}"  # our name, never the user's
        folder = ctx.store.runs_root / name
        session["runs"][label] = {"family": family.name, "folder": name}
        session["current"] = label
    train_set = ctx.dataset(family.data, "train")
    held_out_set = ctx.dataset(family.data, "test")
    torch.manual_seed(recipe.seed)
    model = family.model_cls(config).to(ctx.store.device)
    held_out = next(datasets.DATASETS[family.data].batches(held_out_set, HELD_OUT, seed=0, device=ctx.store.device,
                                                           model=model))
    judge = _judge(ctx)
    preview_every = preview_every or max(10, recipe.steps // 50)
    log_every = max(1, recipe.steps // HISTORY_POINTS)
    history: List[dict] = []
    shots = ctx.previews.setdefault(folder.name, [])
    del shots[:-MAX_PREVIEWS // 2]  # a resumed run keeps its recent timeline
    frame_preview, histogram, scores = None, None, {}
    last_sent = last_preview = 0.0
    run = train(family, model, train_set, recipe, checkpoint=folder, save_seconds=SAVE_SECONDS,
                resume=resume, max_seconds=ctx.limits.max_seconds)
    for progress in run:
        if progress.step % log_every == 0 or progress.step == progress.total:
            history += [{"step": progress.step, "value": v, "series": k} for k, v in progress.losses.items()]
        now = time.perf_counter()
        is_preview = (progress.step % preview_every == 0 and now - last_preview >= PREVIEW_SECONDS
                      or progress.step == progress.total or bool(progress.note))
        if is_preview:
            last_preview = now
            for k, v in family.evaluate(model, held_out).items():
                history.append({"step": progress.step, "value": v, "series": f"held-out {k}"})
            shot = previews.preview(family, model, judge, held_out)
            scores = shot.scores
            frame_preview = (images.annotated_grid(shot.images, shot.captions, shot.correct, columns=shot.columns,
                                                   scale=2) if shot.captions else
                             images.grid(shot.images, columns=shot.columns, scale=2))
            frame_preview = np.asarray(frame_preview)
            shots.append(frame_preview)
            del shots[:-MAX_PREVIEWS]
            if shot.histogram is not None:
                histogram = pd.DataFrame({"digit": [str(d) for d in range(10)], "count": shot.histogram})
        if is_preview or now - last_sent >= STREAM_SECONDS:
            last_sent = now
            done = progress.step == progress.total or bool(progress.note)
            yield Frame(_status(family, progress, train_set.source, scores, progress.note),
                        pd.DataFrame(_thin(history), columns=["step", "value", "series"]),
                        frame_preview if is_preview else None, histogram if is_preview else None,
                        len(shots), session, progress.step, done)


def preview_at(ctx: TrainContext, session: Optional[dict], index) -> Optional[np.ndarray]:
    """Frame `index` of the timeline of this session's current run (None before any preview)."""
    label = (session or {}).get("current")
    if label is None:
        return None
    shots = ctx.previews.get(ctx.store.run_folder(session, label).name, [])
    return shots[min(max(0, int(index or 0)), len(shots) - 1)] if shots else None


def _judge(ctx: TrainContext):
    try:
        return ctx.store.get("judge")
    except weights.WeightsError:
        return None  # no shipped judge: previews without the judge's view


def download(ctx: TrainContext, session: dict) -> str:
    """A zip (config.json + model.safetensors) of this session's current run."""
    folder = ctx.store.run_folder(session, (session or {}).get("current"))
    family = get_family(session["runs"][session["current"]]["family"])
    step = checkpoints.read_step(folder)
    target = folder.with_name(f"{folder.name}-{family.name}-step{step}.zip")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (weights.CONFIG, weights.TENSORS):
            archive.write(folder / name, arcname=f"{family.name}/{name}")
    return str(target)
