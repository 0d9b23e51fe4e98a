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
from typing import Dict, Iterator, Optional, Tuple, Union

import numpy as np
import pandas as pd
import torch

from genlab import images, params, weights
from genlab.data import corpus, datasets
from genlab.data.download import DataError
from genlab.limits import LOCAL, ServerLimits, check as check_limits
from genlab.models.base import TrainConfig, held_out_losses
from genlab.params import RequestError
from genlab.registry import get_family
from genlab.train import checkpoints, loop, previews
from genlab.ui import train_data, train_judges, train_records
from genlab.ui.safe_messages import without_paths
from genlab.ui.store import ModelStore
from genlab.ui.train_data import ChosenPictures, PictureCache
from genlab.ui.train_status import (HISTORY_POINTS, LossHistory, finished_status, histogram_frame, stopped_status,
                                    training_status)

STREAM_SECONDS = 1.0  # at most this often a frame is sent between previews
PREVIEW_SECONDS = 4.0  # and previews (samples, judge, held-out losses) at most this often,
PREVIEW_SHARE = 0.05  # and rarer still when they are slow: previews take at most this share of the run
SAVE_SECONDS = 60.0  # checkpoint at least this often (and always when the run stops)
STOP_SAVE_SECONDS = 30.0  # a new run (or Stop's answer) waits at most this long for a stopped one to finish saving
HELD_OUT = 128  # held-out examples scored at every preview


@dataclass
class TrainContext:
    """What every run of one app shares: models and runs (store.runs), limits and the one-run lock."""

    store: ModelStore
    limits: ServerLimits = LOCAL
    busy: threading.Lock = field(default_factory=threading.Lock)
    progress: Optional[Tuple[int, int]] = None  # (step, total) of the run training now
    saving: threading.Lock = field(default_factory=threading.Lock)  # held while a stopped run saves its checkpoint
    _datasets: Dict[str, object] = field(default_factory=dict)
    pictures: PictureCache = field(default_factory=PictureCache)  # image sets a run or the data preview chose

    def settle(self) -> None:
        """Wait (a bounded time) for a just-stopped run to finish saving, so its checkpoint is whole."""
        if self.saving.acquire(timeout=STOP_SAVE_SECONDS):
            self.saving.release()

    def busy_message(self) -> str:
        step, total = self.progress or (0, 0)
        where = f" (step {step} of {total})" if total else ""
        return (f"a training run is in progress on this server{where}; only one trains at a time: "
                f"press Start again when it has finished")

    def dataset(self, kind: str, split: str):
        key = f"{kind}/{split}"
        if key not in self._datasets:
            self._datasets[key] = datasets.DATASETS[kind].load(split, download=False)
        return self._datasets[key]

    def chosen_pictures(self, family_name: str, choice, uploaded=None, archive: Optional[bytes] = None,
                        archive_name: str = train_data.KEPT_ZIP):
        """train_data.chosen_pictures with this server's bound on a user's zip."""
        return train_data.chosen_pictures(self.pictures, family_name, choice, uploaded,
                                          train_data.upload_bound(self.limits), archive, archive_name)

    def data_preview(self, family_name: str, choice, uploaded):
        """/train_data_preview: the example grid and class counts of what a run would train on."""
        try:
            return train_data.data_preview(self.pictures, lambda: _default_splits(self, get_family(family_name)),
                                           family_name,
                                           choice, uploaded, train_data.upload_bound(self.limits))
        except DataError as err:
            raise RequestError(without_paths(str(err))) from None


@dataclass
class TrainFrame:
    """One update of the tab while a run trains."""

    status: str  # markdown: progress, speed, ETA, data source, notes
    history: pd.DataFrame  # columns step, value, series (named as people read them: "held-out D loss")
    preview: Union[np.ndarray, str, None]  # a new preview: grid (H, W, 3) uint8 or text sample; None: unchanged
    histogram: Optional[pd.DataFrame]  # columns class, count: the judge's view of it, None: unchanged
    previews: int  # previews so far (kept on the server for the timeline: TrainContext.preview)
    session: dict  # {"runs": {label: {"family", "folder", "text", "data", ...}}, "current": label}
    step: int = 0
    done: bool = False
    total: int = 0  # steps the run is to reach


def new_session() -> dict:
    return {"runs": {}, "current": None}


def checked_run(ctx: TrainContext, family_name: str, recipe_values: dict, config_values: dict,
                text: Optional[str] = None, pictures: Optional[ChosenPictures] = None):
    """Family, recipe, config and (train, held-out) data from form values, within bounds and server limits.

    `text` is the user's own training text for a text family (None: the family's default corpus), `pictures`
    the image set an image family trains on (None: MNIST); the config takes what the data decides (a text
    model's vocabulary, an image model's class count) from the training split.
    """
    family = get_family(family_name)
    recipe = params.build(TrainConfig, recipe_values)
    data = _data(ctx, family, text, pictures)
    config = params.build(family.config_cls, {**config_values, **datasets.derived_config(family, data.train)})
    _check_limits(ctx, family, recipe, config)
    return family, recipe, config, data


@dataclass(frozen=True)
class RunData:
    train: object
    held_out: object
    own_text: Optional[str] = None  # the user's text, when a text family trains on it
    pictures: Optional[ChosenPictures] = None  # the chosen image set, when an image family trains on one


def _default_splits(ctx: TrainContext, family) -> tuple:
    try:
        return ctx.dataset(family.data, "train"), ctx.dataset(family.data, "test")
    except DataError as err:
        hint = " Or paste or upload your own text." if family.data == "text" else ""
        raise RequestError(f"{without_paths(str(err))}{hint}") from None


def _data(ctx: TrainContext, family, text: Optional[str], pictures: Optional[ChosenPictures] = None) -> RunData:
    """The user's text split 90/10, the chosen pictures, or the family's default data.

    `text` was decoded and checked where it arrived (the Train tab's chosen_text) or is the copy
    kept beside a run; only the server's size cap is checked again, as every caller's bound."""
    if text is not None and family.data == "text":
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > ctx.limits.max_text_bytes:
            raise RequestError(f"your text is {size:,} bytes; at most {ctx.limits.max_text_bytes:,} are accepted here")
        return RunData(corpus.split(text, "train", "your text"), corpus.split(text, "test", "your text"), text)
    if pictures is not None:
        return RunData(pictures.splits.train, pictures.splits.test, pictures=pictures)
    return RunData(*_default_splits(ctx, family))


def _check_limits(ctx: TrainContext, family, recipe: TrainConfig, config) -> None:
    with torch.device("meta"):  # parameters' shapes (count and memory estimate) without allocating them
        model = family.model_cls(config)
    check_limits(recipe, model, ctx.limits, config)


def stream_run(ctx: TrainContext, family_name: str, recipe_values: dict, config_values: dict,
               session: Optional[dict], *, resume: bool = False, preview_every: int = 0,
               text: Optional[str] = None, pictures: Optional[ChosenPictures] = None) -> Iterator[TrainFrame]:
    """Train a new run (or resume this session's current one) and yield frames while it trains.

    A resumed run trains on the data it started with (a user's text or zip is kept beside its checkpoint)."""
    session = {"runs": dict((session or {}).get("runs", {})), "current": (session or {}).get("current")}
    ctx.settle()
    ctx.store.runs.sweep(room=0 if resume else 1)  # before a new run, make room for it
    seconds = ctx.limits.max_seconds
    if resume:
        # a resume continues the saved recipe; only `steps` may grow, to train a finished run longer
        others = sorted(set(recipe_values) - {"steps"})
        if others:
            raise RequestError(f"a resumed run keeps its saved recipe; only steps may change, not {', '.join(others)}")
        if session["current"] is None:
            raise RequestError("this session has no run to resume yet: press Start to train one")
        folder = ctx.store.saved_run(session, session["current"])
        record = session["runs"][session["current"]]
        family = get_family(record["family"])
        data = _data(ctx, family, train_records.kept_text(folder, record),
                     train_records.kept_pictures(ctx, family, folder, record))
        saved_recipe = checkpoints.read_recipe(folder)
        recipe = params.build(TrainConfig, {**saved_recipe, "steps": recipe_values.get("steps", saved_recipe["steps"])})
        config = weights.read_config(family, folder)
        _check_limits(ctx, family, recipe, config)
        if checkpoints.read_step(folder) >= recipe.steps:
            raise RequestError(f"this run already finished its {recipe.steps} steps; raise steps to continue it")
        seconds -= ctx.store.runs.seconds_used(folder.name)
        if seconds <= 0:
            raise RequestError(f"this run has used all {ctx.limits.max_seconds:g} s of training time this server "
                               f"gives one run; download it to train it further on your own machine")
    else:
        family, recipe, config, data = checked_run(ctx, family_name, recipe_values, config_values, text, pictures)
    if not ctx.busy.acquire(blocking=False):
        raise RequestError(ctx.busy_message())
    frames = _train(ctx, family, recipe, config, data, session, resume, preview_every,
                    min(seconds, ctx.limits.max_call_seconds))

    def let_go() -> None:
        try:
            frames.close()  # a run stopped early saves its checkpoint here
        finally:
            ctx.progress = None
            ctx.busy.release()

    stopped = False
    try:
        for frame in frames:
            yield frame
    except GeneratorExit:
        stopped = True
        raise
    finally:
        if stopped:  # Gradio closes a stopped generator on its event loop, which the save would hold up for everyone
            ctx.saving.acquire()

            def save_then_let_go() -> None:
                try:
                    let_go()
                finally:
                    ctx.saving.release()
            threading.Thread(target=save_then_let_go, name="genlab-stop-run", daemon=True).start()
        else:
            let_go()


def _train(ctx, family, recipe, config, data, session, resume, preview_every, seconds) -> Iterator[TrainFrame]:
    if resume:
        label = session["current"]
        folder = ctx.store.run_folder(session, label)
    else:
        label = f"{family.name} run {sum(r['family'] == family.name for r in session['runs'].values()) + 1}"
        name = f"{family.name}-{uuid.uuid4().hex[:12]}"  # our name, never the user's
        folder = ctx.store.runs_root / name
        session["runs"][label] = train_records.session_record(family, name, data)
        session["current"] = label
        train_records.keep_user_data(ctx.store.runs_root, name, data)
    train_set, held_out_set = data.train, data.held_out
    facts = train_records.RunFacts.of(folder, family, train_set, recipe)
    names = train_data.class_names(train_set)
    model = loop.new_model(family, config, recipe, ctx.store.device)
    held_out = next(datasets.DATASETS[family.data].batches(held_out_set, HELD_OUT, seed=0, device=ctx.store.device,
                                                           **model.batch_options()))
    # samples get a judge's verdicts; a classifier shows its own (and scores later runs on its data)
    judge, judge_note = None, train_judges.JUDGES_LATER if family.output == "label" else ""
    if family.output == "image":
        judge, judge_note = train_judges.judge_for(ctx.store, session, train_judges.data_entry(train_set))
    preview_every = preview_every or max(10, recipe.steps // 50)
    log_every = max(1, recipe.steps // HISTORY_POINTS)
    ledger = ctx.store.runs
    # a resumed run continues its curves from its checkpoint's step (points after it were trained again)
    history = LossHistory(family, ledger.history(folder.name, checkpoints.read_step(folder)) if resume else ())
    for other in session["runs"].values():  # only the current run's timeline is shown: free the others'
        if other["folder"] != folder.name:
            ledger.drop_previews(other["folder"])
    ledger.touch(folder.name)
    shots = ledger.preview_count(folder.name)
    frame_preview, histogram, scores = None, None, {}
    last_sent = last_preview = -math.inf  # never: perf_counter counts from boot, so 0.0 may be recent
    preview_gap = PREVIEW_SECONDS
    run = loop.train(family, model, train_set, recipe, checkpoint=folder, save_seconds=SAVE_SECONDS,
                         resume=resume, max_seconds=seconds)
    ledger.training(folder.name, True)
    elapsed = 0.0
    try:
        for progress in run:
            elapsed = progress.elapsed
            ctx.progress = (progress.step, progress.total)
            if progress.step % log_every == 0 or progress.step == progress.total:
                history.add(progress.step, progress.losses)
            now = time.perf_counter()
            # the first step previews too: the plot fixes its legend from the first series it is sent, so
            # held-out series must be in the first frame to be drawn at all
            is_preview = (progress.step % preview_every == 0 and now - last_preview >= preview_gap
                          or progress.step in (progress.start_step + 1, progress.total) or bool(progress.note))
            if is_preview:
                history.add(progress.step, held_out_losses(model, held_out), held_out=True)
                shot = previews.preview(family, model, judge, held_out, names)
                scores = shot.scores
                frame_preview = shot.text if shot.images is None else np.asarray(
                    images.annotated_grid(shot.images, shot.captions, shot.correct, columns=shot.columns, scale=2)
                    if shot.captions else images.grid(shot.images, columns=shot.columns, scale=2))
                shots = ledger.add_preview(folder.name, frame_preview)
                if shot.histogram is not None:
                    histogram = histogram_frame(shot)
                last_preview = time.perf_counter()
                preview_gap = max(PREVIEW_SECONDS, (last_preview - now) / PREVIEW_SHARE)
            if is_preview or now - last_sent >= STREAM_SECONDS:
                last_sent = now
                facts.keep()  # a save since the last frame replaced the folder without it
                done = progress.step == progress.total or bool(progress.note)
                status = (stopped_status(label, progress.step, progress.total, progress.note) if progress.note
                          else finished_status(family, progress, train_set.source, scores, label, judge_note) if done
                          else training_status(family, progress, train_set.source, scores, judge_note))
                yield TrainFrame(status, history.frame(), frame_preview if is_preview else None,
                                 histogram if is_preview else None, shots, session, progress.step, done,
                                 progress.total)
    finally:
        run.close()  # saves the checkpoint when stopped early
        facts.keep(final=True)
        ledger.keep_history(folder.name, history.points())
        ledger.add_seconds(folder.name, elapsed)
        ledger.training(folder.name, False)


def preview_at(ctx: TrainContext, session: Optional[dict], index) -> Union[np.ndarray, str, None]:
    """Frame `index` of the timeline of this session's current run (None before any preview)."""
    label = (session or {}).get("current")
    if label is None:
        return None
    return ctx.store.runs.preview(ctx.store.run_folder(session, label).name, int(index or 0))


def download(ctx: TrainContext, session: dict) -> str:
    """A zip (config.json + model.safetensors) of this session's current run."""
    if (session or {}).get("current") is None:
        raise RequestError("this session has no run yet: press Start to train one, then download it")
    ctx.settle()
    folder = ctx.store.saved_run(session, (session or {}).get("current"))
    family = get_family(session["runs"][session["current"]]["family"])
    step = checkpoints.read_step(folder)
    target = folder.with_name(f"{folder.name}-{family.name}-step{step}.zip")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (weights.CONFIG, weights.TENSORS):
            archive.write(folder / name, arcname=f"{family.name}/{name}")
    return str(target)
