"""The Train tab: pick a family, fill a form generated from its dataclasses, watch it learn.

Controls on the left (the fields marked basic in view, the rest folded into "Advanced"), outputs
on the right. Every family gets the same widgets from the registry; there is no per-family code
here. Start and Resume first read the shown form into a recipe and a config by field name, then
call the named endpoints train_start / train_resume (genlab.ui.train_api) that clients call too.
"""

import dataclasses
from typing import Dict, List, Optional, Tuple

import gradio as gr

from genlab import params
from genlab.data import corpus, mnist
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui import docs, forms, train_api, train_data
from genlab.ui.gpu import TRAIN_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.pictures import picture
from genlab.ui.tabs.train_pictures import PictureWidgets, build_pictures, wire_pictures
from genlab.ui.train_api import OWN_TEXT, SHAKESPEARE, TEXT_SOURCES, chosen_text, default_source  # noqa: F401
from genlab.ui.train_presets import PRESETS, preset, preset_info
from genlab.ui.train_run import TrainContext, download, stream_run


def data_notice() -> str:
    folder = mnist.find_mnist()
    if folder is not None:
        notice = f"MNIST, for image families, is the full training set (found in `{folder.name}/`)."
    else:
        notice = ("**Notice:** full MNIST was not found, so image families' MNIST is the bundled sample of 3,000 "
                  "real digits (set `GENLAB_DATA_DIR` to a folder with the four MNIST files for the full set).")
    if corpus.find_shakespeare() is None:
        notice += (" **Text families:** tiny-shakespeare was not found here (set `GENLAB_TEXT_PATH` to its "
                   "`input.txt`), so *my own text* is chosen: paste or upload UTF-8 text to train on.")
    return notice


@dataclasses.dataclass(frozen=True)
class TrainForms:
    """Each family's recipe and model forms. The form-reading step receives every family's widgets
    (only the chosen family's are shown) and reads the chosen family's back by widget, not by position."""

    by_family: Dict[str, Tuple[forms.Form, forms.Form]]  # family -> (recipe form, model form)

    @property
    def widgets(self) -> List[gr.components.Component]:
        return [w for pair in self.by_family.values() for form in pair for w in form.widgets]

    def read(self, family_name: str, values) -> Tuple[dict, dict]:
        """({recipe field: value}, {config field: value}) of `family_name` from all widgets' values."""
        by_widget = dict(zip(self.widgets, values))
        recipe, config = self.by_family[family_name]
        return recipe.read(by_widget), config.read(by_widget)

    def preset_values(self, name: str) -> list:
        """Every widget's value (in `widgets` order) showing preset `name` of its family."""
        return [v for fam in self.by_family for part in preset(FAMILIES[fam], name) for v in forms.form_values(part)]


def family_forms(name: str) -> Tuple[forms.Form, forms.Form]:
    """The family's recipe and model fields (its quick preset shown), in the family's own words."""
    family = FAMILIES[name]
    recipe, config = preset(family, "quick")
    shared_help = {f.name: family.recipe_help[f.name] for f in params.tunable(recipe) if f.name in family.recipe_help}
    return forms.build_folded_forms([forms.FormPart(recipe, f"train-{name}-recipe", shared_help),
                                     forms.FormPart(config, f"train-{name}-config")])


def train_start(ctx: TrainContext, family: str, preset: str, recipe: Optional[dict], config: Optional[dict],
                source: str = SHAKESPEARE, pasted: Optional[str] = "", uploaded: Optional[str] = None,
                data: str = train_data.MNIST, pictures: Optional[str] = None, session: Optional[dict] = None):
    """/train_start: a new run of `family` from `preset`, with `recipe` and `config` fields replaced by name.

    Text families train on `source`: tiny-shakespeare, or "my own text" from `pasted` or `uploaded`. Image
    families train on `data`: mnist, fashion-mnist, kmnist, shapes, or "own", the zip of class folders `pictures`."""
    yield from train_api.start_stream(ctx, stream_run, family, preset, recipe, config, source, pasted, uploaded,
                                      session, data, pictures)


def train_judge_for_data(ctx: TrainContext, data: str = train_data.MNIST, pictures: Optional[str] = None,
                         session: Optional[dict] = None):
    """/train_judge_for_data: a short judge run on `data` (as train_start's); once trained, the previews of
    later runs on the same pictures show its verdicts."""
    yield from train_api.judge_stream(ctx, stream_run, data, pictures, session)


def train_resume(ctx: TrainContext, recipe: Optional[dict], session: Optional[dict] = None):
    """/train_resume: continue this session's latest run from its checkpoint; `recipe` may only raise its steps."""
    yield from train_api.resume_stream(ctx, stream_run, recipe, session)


@dataclasses.dataclass(frozen=True)
class TrainWidgets:
    """The tab's components, for the wiring below."""

    family: gr.Dropdown
    preset: gr.Radio
    text_group: gr.Group  # the text source, shown for text families
    source: gr.Radio
    own_text: gr.Row  # paste and upload, shown for "my own text"
    pasted: gr.Textbox
    uploaded: gr.File
    pictures: PictureWidgets  # the image set, shown for image families
    family_groups: List[gr.Column]  # one per family, only the chosen one shown
    forms: TrainForms
    recipe_sent: gr.JSON  # what Start and Resume send to the named endpoints: the shown form as {field: value}
    config_sent: gr.JSON
    start: gr.Button
    stop: gr.Button
    resume: gr.Button
    status: gr.Markdown
    plot: gr.LinePlot
    preview: gr.Image
    preview_text: gr.Textbox
    histogram: gr.BarPlot
    timeline: gr.Slider
    get_zip: gr.Button
    zipped: gr.File

    @property
    def outputs(self) -> list:
        """What every training stream updates, in train_api.frame_outputs order (then the session)."""
        return [self.status, self.plot, self.preview, self.preview_text, self.histogram, self.timeline]


def build(demo: gr.Blocks, shared) -> None:
    first = list(FAMILIES)[0]
    with gr.Row(elem_id="train-layout"):
        with gr.Column(scale=2, min_width=320, elem_id="train-controls"):
            # one per row: side by side, the narrow column clipped the family's name
            family = gr.Dropdown([(f.title, n) for n, f in FAMILIES.items()], value=first, label="Model family",
                                 elem_id="train-family")
            chosen = gr.Radio(list(PRESETS), value="quick", label="Preset", elem_id="train-preset",
                              info=preset_info(FAMILIES[first]))
            with gr.Row():  # in the same place for every family, above its form
                start = gr.Button("Start", variant="primary", elem_id="train-start")
                stop = gr.Button("Stop", variant="stop", elem_id="train-stop")
                resume = gr.Button("Resume", elem_id="train-resume")
            source_value = default_source()
            with gr.Group(visible=first in TEXT_FAMILIES) as text_group:
                source = gr.Radio(list(TEXT_SOURCES), value=source_value, label="Text to train on",
                                  elem_id="train-text-source",
                                  info=f"your own: plain UTF-8, at least {corpus.MIN_TEXT_CHARS} characters "
                                       f"(the last 10% is held out)")
                with gr.Row(visible=source_value == OWN_TEXT) as own_text:
                    pasted = gr.Textbox("", label="Paste text", lines=3, max_lines=6, elem_id="train-text-paste")
                    uploaded = gr.File(None, label="or upload a .txt file", file_types=[".txt"], type="filepath",
                                       elem_id="train-text-file", height=110)
            pictures = build_pictures(train_data.picks_pictures(first),
                                      train_data.upload_bound(shared.trainer.limits))
            groups, by_family = [], {}
            for name in FAMILIES:
                with gr.Column(visible=name == first, elem_id=f"train-{name}-form") as group:
                    by_family[name] = family_forms(name)
                groups.append(group)
            gr.Markdown(data_notice(), elem_id="train-data-notice")
        with gr.Column(scale=3, elem_id="train-outputs"):
            status = gr.Markdown(label="Status", elem_id="train-status")
            plot = gr.LinePlot(x="step", y="value", color="series", label="Losses (train and held-out)",
                               elem_id="train-plot", height=340, color_title=" ", y_title="value")
            # the preview spans the column: beside the histogram its 40 digits and their verdicts were too small to read
            shown = picture("Preview (fixed noise)", "train-preview", visible=first not in TEXT_FAMILIES)
            shown_text = gr.Textbox(label="Preview (the same seed each time)", lines=8,
                                    elem_id="train-preview-text", visible=first in TEXT_FAMILIES)
            timeline = gr.Slider(0, 1, value=0, step=1, label="Preview timeline", interactive=False,
                                 elem_id="train-timeline")
            histogram = gr.BarPlot(x="class", y="count", label="What the judge sees in the preview",
                                   elem_id="train-histogram", y_lim=[0, None], sort="x", height=220,
                                   visible=first not in TEXT_FAMILIES)
            with gr.Row():
                get_zip = gr.Button("Download model", elem_id="train-download", scale=0, min_width=160)
                zipped = gr.File(label="Model (config.json + model.safetensors)", elem_id="train-zip")
            # local mode only: a public server never takes a visitor's token (train_api.push_run refuses too)
            pushing = build_push() if shared.limits.hub_push else None
    recipe_sent = gr.JSON({}, label="recipe", visible=False)
    config_sent = gr.JSON({}, label="config", visible=False)
    docs.explainer("train")
    wire(shared.trainer, shared.session, TrainWidgets(
        family, chosen, text_group, source, own_text, pasted, uploaded, pictures, groups, TrainForms(by_family),
        recipe_sent, config_sent, start, stop, resume, status, plot, shown, shown_text, histogram, timeline,
        get_zip, zipped))
    wire_pictures(demo, shared.trainer, pictures, family)
    if pushing is not None:
        wire_push(shared.trainer, shared.session, pushing)


@dataclasses.dataclass(frozen=True)
class PushWidgets:
    """Push to the Hub: the repo, a token used once (masked, never stored), private or not, and the result."""

    repo: gr.Textbox
    token: gr.Textbox
    private: gr.Checkbox
    push: gr.Button
    result: gr.Markdown


def build_push() -> PushWidgets:
    with gr.Accordion("Push to the Hub", open=False, elem_id="train-push"):
        with gr.Row():
            repo = gr.Textbox(label="Repo (USER/NAME)", placeholder="alice/genlab-gan", max_length=96,
                              elem_id="train-push-repo")
            token = gr.Textbox(label="Token", type="password", elem_id="train-push-token",
                               info="a write token, used for this upload only and never stored; "
                                    "empty: this machine's login (HF_TOKEN or huggingface-cli login)")
        with gr.Row():
            private = gr.Checkbox(False, label="Private repo", elem_id="train-push-private")
            push = gr.Button("Push", elem_id="train-push-button", scale=0, min_width=120)
        result = gr.Markdown(elem_id="train-push-result")
    return PushWidgets(repo, token, private, push, result)


def wire_push(ctx, session: gr.State, tab: PushWidgets) -> None:
    # the token leaves the page once pushed; it is no output of the push itself, which Gradio marks on a failure
    tab.push.click(handler(train_api.push_stream, ctx), [tab.repo, tab.token, tab.private, session], tab.result,
                   api_name="train_push", concurrency_id="train-push", concurrency_limit=1).success(
        lambda: "", None, tab.token, api_visibility="private", queue=False)


def wire(ctx, session: gr.State, tab: TrainWidgets) -> None:
    names, widgets = list(FAMILIES), tab.forms.widgets

    def show_family(name: str) -> list:
        text = name in TEXT_FAMILIES
        return ([gr.Column(visible=name == k) for k in names] +
                [gr.Group(visible=text), gr.Image(visible=not text), gr.Textbox(visible=text),
                 gr.BarPlot(visible=not text), gr.Radio(info=preset_info(FAMILIES[name])),
                 gr.Column(visible=train_data.picks_pictures(name))])

    private = {"api_visibility": "private", "queue": False}
    tab.family.change(show_family, tab.family, [*tab.family_groups, tab.text_group, tab.preview, tab.preview_text,
                                                tab.histogram, tab.preset, tab.pictures.group], **private)
    tab.source.change(lambda s: gr.Row(visible=s == OWN_TEXT), tab.source, tab.own_text, **private)
    tab.preset.change(tab.forms.preset_values, tab.preset, widgets, **private)

    def read_form(name, *values):
        return tab.forms.read(name, values)

    def read_steps(state, *values):
        """Resume sends only the steps field of the current run's family (its recipe is kept)."""
        run = (state or {}).get("runs", {}).get((state or {}).get("current"))
        return {"steps": tab.forms.read(run["family"], values)[0]["steps"]} if run else {}

    outputs = [*tab.outputs, session]
    # one run trains at a time (TrainContext.busy); more slots than runs, so a second Start is told at once
    # that the server is busy instead of waiting unseen in the queue and starting after its user has left
    limits = {"concurrency_id": "train", "concurrency_limit": 4, "show_progress": "hidden"}
    started = tab.start.click(read_form, [tab.family, *widgets], [tab.recipe_sent, tab.config_sent], **private).then(
        handler(train_start, ctx, gpu_seconds=TRAIN_GPU_SECONDS),
        [tab.family, tab.preset, tab.recipe_sent, tab.config_sent, tab.source, tab.pasted, tab.uploaded,
         *tab.pictures.inputs, session], outputs, api_name="train_start", **limits)
    judged = tab.pictures.judge.click(handler(train_judge_for_data, ctx, gpu_seconds=TRAIN_GPU_SECONDS),
                                      [*tab.pictures.inputs, session], outputs, api_name="train_judge_for_data",
                                      **limits)
    resumed = tab.resume.click(read_steps, [session, *widgets], tab.recipe_sent, **private).then(
        handler(train_resume, ctx, gpu_seconds=TRAIN_GPU_SECONDS), [tab.recipe_sent, session], outputs,
        api_name="train_resume", **limits)
    # the status follows the cancellation: in one event, Gradio would hold the cancel back until it returned
    tab.stop.click(None, None, None, cancels=[started, resumed, judged], api_visibility="private").then(
        handler(train_api.train_stop, ctx), session, tab.status, api_visibility="private",
        concurrency_id="train-stop", concurrency_limit=4)
    tab.timeline.input(handler(train_api.timeline_preview, ctx), [session, tab.timeline],
                       [tab.preview, tab.preview_text],
                       **private)
    tab.get_zip.click(handler(download, ctx), session, tab.zipped, api_name="train_download")
