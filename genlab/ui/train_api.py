"""What the Train tab's named endpoints do: a run's family, preset, recipe and config by name.

Gradio names an endpoint's parameters after its function's parameters (the tab's train_start and
train_resume) and its outputs after the output widgets' labels, so a client writes

    client.submit("gpt", recipe={"steps": 3}, source="my own text", pasted=text, api_name="/train_start")
    client.submit("gan", data="shapes", api_name="/train_start")  # image families: data, or data="own" + pictures

Fields left out take the preset's values; a field the family does not have is refused by name.
Every stream first clears what an earlier run left on screen, and a refusal or failure ends with
a status that says why, so no stale status, ETA or preview remains.
"""

import dataclasses
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple

import gradio as gr

from genlab import params
from genlab.data import corpus
from genlab.data.download import DataError
from genlab.models.base import Family, TrainConfig
from genlab.params import RequestError
from genlab.registry import FAMILIES, TEXT_FAMILIES, get_family
from genlab.train import checkpoints, hub
from genlab.train.loop import NonFiniteLoss
from genlab.data import image_sets
from genlab.ui import train_data, train_judges, train_presets
from genlab.ui.train_run import STOP_SAVE_SECONDS, TrainContext, TrainFrame, preview_at
from genlab.ui.train_status import preparing_status, refused_status, stopped_status

SHAKESPEARE, OWN_TEXT = "tiny-shakespeare", "my own text"
TEXT_SOURCES = (SHAKESPEARE, OWN_TEXT)


def default_source() -> str:
    """The text source that works here: tiny-shakespeare when it is found, else the user's own."""
    return SHAKESPEARE if corpus.find_shakespeare() is not None else OWN_TEXT


def _object(kind: str, values) -> dict:
    """A client's {field: value} object (None: no fields)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise RequestError(f"{kind} must be a JSON object of field names and values, got {type(values).__name__}")
    return dict(values)


def _fields(kind: str, family: Family, cls, values) -> dict:
    """`values` checked to name only `cls`'s tunable fields (a text model's vocabulary comes from its text)."""
    values, known = _object(kind, values), [f.name for f in params.tunable(cls)]
    unknown = [k for k in values if k not in known]
    if unknown:
        raise RequestError(f"unknown {kind} field{'s' if len(unknown) > 1 else ''} for {family.name}: "
                           f"{', '.join(map(str, unknown))}; the fields are {', '.join(known)}")
    return values


def requested_run(family_name, preset_name, recipe, config) -> Tuple[Family, dict, dict]:
    """(family, recipe values, config values): the preset's, with the fields a request names replaced."""
    if family_name not in FAMILIES:
        raise RequestError(f"family must be one of {', '.join(FAMILIES)}, got {family_name!r}")
    family = get_family(family_name)
    base_recipe, base_config = train_presets.preset(family, preset_name)
    recipe_values = {**dataclasses.asdict(base_recipe), **_fields("recipe", family, TrainConfig, recipe)}
    config_values = {**{f.name: getattr(base_config, f.name) for f in params.tunable(base_config)},
                     **_fields("config", family, family.config_cls, config)}
    return family, recipe_values, config_values


def preview_outputs(preview) -> tuple:
    """(image preview, text preview): the one that changed gets the value, the other is left alone."""
    if preview is None:
        return gr.skip(), gr.skip()
    return (gr.skip(), preview) if isinstance(preview, str) else (preview, gr.skip())


def frame_outputs(frame: TrainFrame) -> tuple:
    """The tab's outputs for a frame; an unchanged preview is skipped, not re-sent."""
    last = max(0, frame.previews - 1)
    return (frame.status, frame.history, *preview_outputs(frame.preview),
            gr.skip() if frame.histogram is None else frame.histogram,
            gr.Slider(minimum=0, maximum=max(1, last), value=last, interactive=frame.previews > 1), frame.session)


def cleared_outputs(status: str, session, keep_previews: bool = False) -> tuple:
    """`status` alone on screen: the plot, previews and timeline of any earlier run are cleared."""
    if keep_previews:
        return (status, *[gr.skip()] * 5, session)
    return (status, None, None, "", None,
            gr.Slider(minimum=0, maximum=1, value=0, interactive=False), session)


def _streamed(frames: Iterator[TrainFrame], session, what: str, keep_previews: bool):
    """The outputs of `frames`; a refusal or a failed step ends with a status saying so, then the error."""
    last: Optional[TrainFrame] = None
    try:
        for last in frames:
            yield frame_outputs(last)
    except (RequestError, NonFiniteLoss) as err:
        if last is None:
            yield cleared_outputs(refused_status(what, str(err)), session, keep_previews)
        else:  # its own plot and previews stay: they show what went wrong
            yield (refused_status(f"{last.session['current']} stopped", str(err)), *[gr.skip()] * 5, last.session)
        raise


def start_stream(ctx: TrainContext, run: Callable[..., Iterator[TrainFrame]], family, preset, recipe, config,
                 source, pasted, uploaded, session, data=train_data.MNIST, pictures=None):
    """The outputs of a new run that `run` (train_run.stream_run) trains; see the tab's train_start."""
    def frames() -> Iterator[TrainFrame]:
        chosen, recipe_values, config_values = requested_run(family, preset, recipe, config)
        text = chosen_text(chosen.name, source, pasted, uploaded, ctx.limits.max_text_bytes)
        chosen_pictures = ctx.chosen_pictures(chosen.name, data, pictures)
        yield from run(ctx, chosen.name, recipe_values, config_values, session, text=text, pictures=chosen_pictures)

    title = FAMILIES[family].title if family in FAMILIES else "the run"
    yield cleared_outputs(f"**{title}**: preparing the run (data, model)…", session)
    yield from _streamed(frames(), session, "Could not start", keep_previews=False)


def judge_stream(ctx: TrainContext, run: Callable[..., Iterator[TrainFrame]], data, pictures, session):
    """A new judge run on the chosen pictures with the short JUDGE_FOR_DATA recipe: once it has trained,
    later runs on the same data show its verdicts (train_judges.judge_for)."""
    recipe = dataclasses.asdict(train_judges.JUDGE_FOR_DATA)
    yield from start_stream(ctx, run, train_judges.JUDGE, "quick", recipe, {}, SHAKESPEARE, "", None, session,
                            data, pictures)


def resume_stream(ctx: TrainContext, run: Callable[..., Iterator[TrainFrame]], recipe, session):
    """The outputs of this session's current run resumed by `run`; see the tab's train_resume."""
    def frames() -> Iterator[TrainFrame]:
        yield from run(ctx, "", _object("recipe", recipe), {}, session, resume=True)

    current = (session or {}).get("runs", {}).get((session or {}).get("current"))
    if current is not None and current.get("family") in FAMILIES:
        yield cleared_outputs(preparing_status(FAMILIES[current["family"]], resume=True), session, True)
    yield from _streamed(frames(), session, "Could not resume", keep_previews=True)


def stop_status(ctx: TrainContext, session: Optional[dict]) -> Optional[str]:
    """What the status says once Stop has ended this session's current run: the step its checkpoint
    holds (waiting, boundedly, for the stopped run to save it); None when the run had finished."""
    label = (session or {}).get("current")
    if label is None:
        return stopped_status("The run", 0, 0)
    folder = ctx.store.run_folder(session, label)
    deadline = time.monotonic() + STOP_SAVE_SECONDS
    while ctx.store.runs.is_training(folder.name) and time.monotonic() < deadline:
        time.sleep(0.05)  # Stop's cancellation reaches the run's generator alongside this call
    ctx.settle()
    if not ctx.store.runs.exists(folder.name):
        return stopped_status(label, 0, 0)
    step, total = checkpoints.read_step(folder), checkpoints.read_recipe(folder)["steps"]
    return None if step >= total else stopped_status(label, step, total)


def train_stop(ctx: TrainContext, session: Optional[dict]):
    """The status once Stop has ended the run: the step its checkpoint holds, and that Resume continues."""
    status = stop_status(ctx, session)
    return gr.skip() if status is None else status


def timeline_preview(ctx: TrainContext, session: Optional[dict], index) -> tuple:
    return preview_outputs(preview_at(ctx, session, index))


def chosen_text(family_name: str, source, pasted, uploaded, max_bytes: int = corpus.MAX_TEXT_BYTES) -> Optional[str]:
    """The user's own training text for a text family (None: the default corpus); bounded before reading."""
    if family_name not in TEXT_FAMILIES:
        return None
    if source not in TEXT_SOURCES:
        raise RequestError(f"source must be one of {', '.join(TEXT_SOURCES)}, got {source!r}")
    if source != OWN_TEXT:
        return None
    if uploaded:
        path = Path(uploaded)  # a file gradio received and named, never a path the user typed
        if path.stat().st_size > max_bytes:
            raise RequestError(f"the uploaded file is {path.stat().st_size:,} bytes; "
                               f"at most {max_bytes:,} are accepted here")
        raw = path.read_bytes()
    else:
        raw = (pasted or "").encode("utf-8", errors="surrogatepass")
        if len(raw) > max_bytes:
            raise RequestError(f"the pasted text is {len(raw):,} bytes; at most {max_bytes:,} are accepted here")
    try:
        return corpus.decode_upload(raw, "the uploaded file" if uploaded else "the pasted text")
    except DataError as err:
        raise RequestError(str(err)) from None


def push_run(ctx: TrainContext, repo, token, private, session: Optional[dict]) -> str:
    """/train_push: upload this session's current run (not while it trains) to Hub model repo `repo`; returns
    what happened, with the repo's URL. Local mode only: a public server never pushes (ServerLimits.hub_push).
    `token` is used for this one upload, never stored, logged or shown; empty: this machine's login (HF_TOKEN
    or `huggingface-cli login`)."""
    if not ctx.limits.hub_push:
        raise RequestError("this server does not push to the Hugging Face Hub: download the model and run "
                           "`python -m genlab push FOLDER --repo USER/NAME` on your own machine")
    repo_id = hub.check_repo_id(str(repo or "").strip())
    label = (session or {}).get("current")
    if label is None:
        raise RequestError("this session has no run yet: train one, then push it")
    ctx.settle()
    folder = ctx.store.saved_run(session, label)
    if ctx.store.runs.is_training(folder.name):
        raise RequestError(f"{label} is still training: push it once it has finished (or after Stop)")
    record = session["runs"][label]
    family = get_family(record["family"])
    own_text = bool(record.get("text"))
    data = ("the user's own text (not shared)" if own_text else _chosen_source(record.get("data"))
            or _data_source(ctx, family))
    facts = hub.checkpoint_facts(family, folder, data=data, own_text=own_text)
    url = hub.push(family, folder, repo_id, str(token or "").strip() or None, private=bool(private), facts=facts)
    return f"Pushed **{label}** (step {facts['steps']}) to [{repo_id}]({url})."


def push_stream(ctx: TrainContext, repo, token, private, session: Optional[dict]):
    """The Train tab's Push: push_run's outputs, with what it is doing first and, when it is refused
    or fails, the reason in the result field (then the error, so clients see it too)."""
    yield "Pushing to the Hugging Face Hub…"
    try:
        yield push_run(ctx, repo, token, private, session)
    except RequestError as err:
        yield refused_status("Could not push", str(err))
        raise


def _chosen_source(choice) -> Optional[str]:
    """What a run's chosen pictures were, for its model card (a user's zip is not described: not shared)."""
    if choice == train_data.OWN_ZIP:
        return "the user's own pictures (not shared)"
    source = image_sets.IMAGE_SOURCES.get(choice) if choice != train_data.MNIST else None
    return source.title if source is not None else None


def _data_source(ctx: TrainContext, family: Family) -> Optional[str]:
    """What the family's default data was ("MNIST train (full, 60000 digits)"); None when it cannot be read."""
    try:
        return ctx.dataset(family.data, "train").source
    except DataError:
        return None
