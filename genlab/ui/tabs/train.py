"""The Train tab: pick a family, fill a form generated from its dataclasses, watch it learn.

Every family gets the same widgets from the registry; there is no per-family code here.
"""

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import gradio as gr

from genlab import params
from genlab.data import corpus, mnist
from genlab.data.download import DataError
from genlab.models.base import TrainConfig
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui import docs, forms
from genlab.ui.gpu import TRAIN_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.train_run import TrainContext, TrainFrame, download, preview_at, stream_run

PRESETS = ("quick", "shipped")


def preset(family, name: str) -> Tuple[TrainConfig, object]:
    """(recipe, config) of a preset: 'shipped' (the recipe of weights/) or 'quick' (about a minute)."""
    if name == "quick" and family.quick_recipe is not None:
        return family.quick_recipe, family.config_cls(**family.quick_config)
    return family.recipe, family.config_cls()


SHAKESPEARE, OWN_TEXT = "tiny-shakespeare", "my own text"


def data_notice() -> str:
    folder = mnist.find_mnist()
    if folder is not None:
        notice = f"Image families train on the full MNIST training set (found in `{folder.name}/`)."
    else:
        notice = ("**Notice:** full MNIST was not found, so image families train on the bundled sample of 3,000 "
                  "real digits (set `GENLAB_DATA_DIR` to a folder with the four MNIST files for the full set).")
    if corpus.find_shakespeare() is None:
        notice += (" **Text families:** tiny-shakespeare was not found here (set `GENLAB_TEXT_PATH` to its "
                   "`input.txt`); choose *my own text* and paste or upload UTF-8 text to train on.")
    return notice


def chosen_text(family_name: str, source, pasted, uploaded,
                max_bytes: int = corpus.MAX_TEXT_BYTES) -> Optional[str]:
    """The user's own training text for a text family (None: the default corpus); bounded before reading."""
    if family_name not in TEXT_FAMILIES or source != OWN_TEXT:
        return None
    if uploaded:
        path = Path(uploaded)  # a file gradio received and named, never a path the user typed
        if path.stat().st_size > max_bytes:
            raise params.RequestError(f"the uploaded file is {path.stat().st_size:,} bytes; "
                                      f"at most {max_bytes:,} are accepted here")
        raw = path.read_bytes()
    else:
        raw = (pasted or "").encode("utf-8", errors="surrogatepass")
        if len(raw) > max_bytes:
            raise params.RequestError(f"the pasted text is {len(raw):,} bytes; at most {max_bytes:,} are accepted here")
    try:
        return corpus.decode_upload(raw, "the uploaded file" if uploaded else "the pasted text")
    except DataError as err:
        raise params.RequestError(str(err)) from None


@dataclasses.dataclass(frozen=True)
class TrainForms:
    """Each family's recipe and model forms. The Start event receives every family's widgets (only
    the chosen family's are shown), and reads the chosen family's back by widget, not by position."""

    by_family: Dict[str, Tuple[forms.Form, forms.Form]]  # family -> (recipe form, model form)

    @property
    def widgets(self) -> List[gr.components.Component]:
        return [w for pair in self.by_family.values() for form in pair for w in form.widgets]

    def read(self, family_name: str, values) -> Tuple[dict, dict]:
        """({recipe field: value}, {config field: value}) of `family_name` from all widgets' values."""
        by_widget = dict(zip(self.widgets, values))
        recipe, config = self.by_family[family_name]
        return recipe.read(by_widget), config.read(by_widget)


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


def start_run(ctx: TrainContext, train_forms: TrainForms, family_name: str, source, pasted, uploaded, *values):
    """Start a new run from the form of `family_name`; streams the tab's outputs."""
    *form, session = values
    recipe, config = train_forms.read(family_name, form)
    text = chosen_text(family_name, source, pasted, uploaded, ctx.limits.max_text_bytes)
    for frame in stream_run(ctx, family_name, recipe, config, session, text=text):
        yield frame_outputs(frame)


def resume_run(ctx: TrainContext, train_forms: TrainForms, family_name: str, source, pasted, uploaded, *values):
    """Continue this session's latest run from its checkpoint on its own data (the form's steps may extend it)."""
    *form, session = values
    recipe, _ = train_forms.read(family_name, form)
    for frame in stream_run(ctx, family_name, recipe, {}, session, resume=True):
        yield frame_outputs(frame)


def build(demo: gr.Blocks, shared) -> None:
    ctx, session = shared.trainer, shared.session
    names = list(FAMILIES)
    with gr.Row():
        family = gr.Dropdown([(f.title, n) for n, f in FAMILIES.items()], value=names[0], label="Model family",
                             elem_id="train-family")
        chosen = gr.Radio(list(PRESETS), value="quick", label="Preset", elem_id="train-preset",
                          info="quick: about a minute on 2 CPU cores; shipped: the recipe of the shipped weights")
    gr.Markdown(data_notice(), elem_id="train-data-notice")
    with gr.Group(visible=names[0] in TEXT_FAMILIES) as text_group:
        source = gr.Radio([SHAKESPEARE, OWN_TEXT], value=SHAKESPEARE, label="Text to train on",
                          elem_id="train-text-source",
                          info=f"your own: plain UTF-8, at least {corpus.MIN_TEXT_CHARS} characters "
                               f"(the last 10% is held out)")
        with gr.Row():
            pasted = gr.Textbox("", label="Paste text", lines=4, max_lines=8, elem_id="train-text-paste")
            uploaded = gr.File(None, label="or upload a .txt file", file_types=[".txt"], type="filepath",
                               elem_id="train-text-file")
    groups, by_family = [], {}
    for name, fam in FAMILIES.items():
        recipe, config = preset(fam, "quick")
        with gr.Row(visible=name == names[0]) as group:
            with gr.Column():
                with gr.Accordion(f"{fam.title}: training recipe", open=True):
                    recipe_form = forms.build_form(recipe, f"train-{name}-recipe")
            with gr.Column():
                with gr.Accordion(f"{fam.title}: model", open=True):
                    config_form = forms.build_form(config, f"train-{name}-config")
        by_family[name] = (recipe_form, config_form)
        groups.append(group)
    train_forms = TrainForms(by_family)
    widgets = train_forms.widgets
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="train-start")
        stop = gr.Button("Stop", variant="stop", elem_id="train-stop")
        resume = gr.Button("Resume", elem_id="train-resume")
        get_zip = gr.Button("Download model", elem_id="train-download")
    status = gr.Markdown(elem_id="train-status")
    plot = gr.LinePlot(x="step", y="value", color="series", label="Losses (train and held-out)",
                       elem_id="train-plot", height=300)
    with gr.Row():
        shown = gr.Image(label="Preview (fixed noise)", format="png", elem_id="train-preview",
                         visible=names[0] not in TEXT_FAMILIES)
        shown_text = gr.Textbox(label="Preview (the same seed each time)", lines=8, elem_id="train-preview-text",
                                visible=names[0] in TEXT_FAMILIES)
        histogram = gr.BarPlot(x="digit", y="count", label="What the judge sees in the preview",
                               elem_id="train-histogram", y_lim=[0, None], sort="x")
    timeline = gr.Slider(0, 1, value=0, step=1, label="Preview timeline", interactive=False,
                         elem_id="train-timeline")
    zipped = gr.File(label="Model (config.json + model.safetensors)", elem_id="train-zip")
    docs.explainer("train")

    family.change(lambda n: [gr.Row(visible=n == k) for k in names] +
                  [gr.Group(visible=n in TEXT_FAMILIES), gr.Image(visible=n not in TEXT_FAMILIES),
                   gr.Textbox(visible=n in TEXT_FAMILIES), gr.BarPlot(visible=n not in TEXT_FAMILIES)],
                  family, [*groups, text_group, shown, shown_text, histogram], api_visibility="private", queue=False)
    chosen.change(lambda p: [v for fam in FAMILIES.values() for part in preset(fam, p)
                             for v in forms.form_values(part)], chosen, widgets, api_visibility="private", queue=False)
    outputs = [status, plot, shown, shown_text, histogram, timeline, session]
    inputs = [family, source, pasted, uploaded, *widgets, session]
    # one run trains at a time (TrainContext.busy); more slots than runs, so a second Start is told at once
    # that the server is busy instead of waiting unseen in the queue and starting after its user has left
    limits = {"concurrency_id": "train", "concurrency_limit": 4, "show_progress": "hidden"}
    started = start.click(handler(start_run, ctx, train_forms, gpu_seconds=TRAIN_GPU_SECONDS), inputs, outputs,
                          api_name="train_start", **limits)
    resumed = resume.click(handler(resume_run, ctx, train_forms, gpu_seconds=TRAIN_GPU_SECONDS), inputs, outputs,
                           api_name="train_resume", **limits)
    stop.click(None, None, None, cancels=[started, resumed], api_visibility="private")
    timeline.input(lambda s, i: preview_outputs(preview_at(ctx, s, i)), [session, timeline], [shown, shown_text],
                   api_visibility="private", queue=False)
    get_zip.click(handler(download, ctx), session, zipped, api_name="train_download")
