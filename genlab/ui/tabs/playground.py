"""The Playground tab: train a small GAN, VAE or flow on 2-D points and watch it learn, live."""

import dataclasses
import re

import gradio as gr

from genlab.data import points2d
from genlab.models.playground import PLAYGROUND_FAMILIES
from genlab.models.playground.gan import UPDATES
from genlab.ui import docs, forms
from genlab.ui import playground_api as api
from genlab.ui.handlers import handler
from genlab.ui.pictures import picture
from genlab.ui.playground_session import TIME_STEPS, PlaygroundControls

SESSION_SECONDS = 3600  # a visitor's model is dropped an hour after its last use
STEP_SHOWN = re.compile(r"step ([\d,]+)")


def paused(status: str):
    """The status after Pause (the stream was cancelled): the last frame's line, marked paused."""
    found = STEP_SHOWN.search(status or "")
    if not found or status.startswith("**Paused**"):
        return gr.skip()
    return f"**Paused** · {status}"


@dataclasses.dataclass(frozen=True)
class PlaygroundWidgets:
    model: gr.Radio
    data: gr.Dropdown
    draw_group: gr.Group
    canvas: gr.Image
    clear: gr.Button
    drawn: gr.JSON
    play: gr.Button
    pause: gr.Button
    step: gr.Button
    reset: gr.Button
    gan_row: gr.Row
    step_d: gr.Button
    step_g: gr.Button
    update: gr.Radio
    status: gr.Markdown
    controls: forms.Form
    configs: dict  # family name -> (its gr.Row, its forms.Form)
    main: gr.Image
    side: gr.Image
    time: gr.Slider
    chart: gr.Image
    controls_sent: gr.JSON
    config_sent: gr.JSON


def build(demo: gr.Blocks, shared) -> None:
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = gr.Radio([(f.title, name) for name, f in PLAYGROUND_FAMILIES.items()], value="gan", label="Model",
                             elem_id="playground-model")
            data = gr.Dropdown(list(points2d.CHOICES), value="ring", label="Data", elem_id="playground-data")
            with gr.Group(visible=False, elem_id="playground-draw") as draw_group:
                canvas = gr.Image(api.canvas([]), label="Click to add points (each becomes a small blob)",
                                  interactive=False, format="png", buttons=[], elem_id="playground-canvas")
                clear = gr.Button("Clear points", size="sm", elem_id="playground-clear")
            with gr.Row(elem_id="playground-buttons"):
                play = gr.Button("Play", variant="primary", elem_id="playground-play", min_width=60)
                pause = gr.Button("Pause", elem_id="playground-pause", min_width=60)
            with gr.Row(elem_id="playground-step-buttons"):
                step = gr.Button("Step", elem_id="playground-step", min_width=60)
                reset = gr.Button("Reset", elem_id="playground-reset", min_width=60)
            with gr.Row(elem_id="playground-gan-buttons") as gan_row:
                step_d = gr.Button("Step D only", size="sm", elem_id="playground-step-d", min_width=60)
                step_g = gr.Button("Step G only", size="sm", elem_id="playground-step-g", min_width=60)
            update = gr.Radio(list(UPDATES), value="both", visible=False, label="update")
            status = gr.Markdown(elem_id="playground-status", label="status")
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                main = picture("The data plane", "playground-main")
                side = picture("Inside the model", "playground-side")
            time = gr.Slider(0, 1, value=0.5, step=1 / TIME_STEPS, visible=False, elem_id="playground-time",
                             label="Time t of the field (0 = noise, 1 = data)")
            chart = picture("KL and JS divergence between the real and generated densities, and the losses",
                            "playground-chart")
    with gr.Accordion("Settings (a change starts a new model)", open=True, elem_id="playground-settings"):
        with gr.Row(equal_height=True):
            controls = forms.build_form(PlaygroundControls(), "playground")
        configs = {}
        for name, family in PLAYGROUND_FAMILIES.items():
            with gr.Row(visible=name == "gan", equal_height=True, elem_id=f"playground-{name}-settings") as row:
                configs[name] = (row, forms.build_form(family.config_cls(), f"playground-{name}"))
    drawn = gr.JSON([], visible=False, label="drawn points")
    controls_sent = gr.JSON({}, visible=False, label="controls")
    config_sent = gr.JSON({}, visible=False, label="config")
    docs.explainer("playground")
    wire(demo, gr.State({}, time_to_live=SESSION_SECONDS), PlaygroundWidgets(
        model, data, draw_group, canvas, clear, drawn, play, pause, step, reset, gan_row, step_d, step_g, update,
        status, controls, configs, main, side, time, chart, controls_sent, config_sent))


def wire(demo: gr.Blocks, slot: gr.State, tab: PlaygroundWidgets) -> None:
    names = list(tab.configs)
    config_widgets = [w for _, form in tab.configs.values() for w in form.widgets]
    form_widgets = [*tab.controls.widgets, *config_widgets]
    private = {"api_visibility": "private", "queue": False}
    quick = {"concurrency_id": "playground", "concurrency_limit": 4, "show_progress": "hidden"}

    def read_forms(name, *values):
        """The controls and the chosen model's config as dicts (checked by the handler)."""
        controls = dict(zip(tab.controls.fields, values[:len(tab.controls.fields)]))
        rest, config = list(values[len(tab.controls.fields):]), {}
        for family, (_, form) in tab.configs.items():
            mine, rest = rest[:len(form.fields)], rest[len(form.fields):]
            if family == name:
                config = dict(zip(form.fields, mine))
        return controls, config

    def read():
        return dict(fn=read_forms, inputs=[tab.model, *form_widgets], outputs=[tab.controls_sent, tab.config_sent],
                    **private)

    described = [slot, tab.model, tab.data, tab.controls_sent, tab.config_sent, tab.drawn, tab.time]
    pictures = [tab.main, tab.side, tab.chart, tab.status]
    view = handler(api.playground_view)

    def redraw(event):
        return event.then(**read()).then(view, described, pictures, api_visibility="private", **quick)

    played = tab.play.click(**read()).then(handler(api.playground_train), described, pictures,
                                           api_name="playground_train", concurrency_id="playground-play",
                                           concurrency_limit=4, show_progress="hidden")
    # a cancelled stream ends as a failure: this puts a plain status in place of the error state
    played.failure(paused, tab.status, tab.status, api_visibility="private", queue=False)
    stop = {"cancels": [played]}  # a new model or new data ends the stream of the old one

    def show_model(name):
        return ([gr.Row(visible=name == n) for n in names] +
                [gr.Row(visible=name == "gan"), gr.Slider(visible=name == "flow")])

    redraw(tab.model.change(show_model, tab.model, [c for c, _ in tab.configs.values()] + [tab.gan_row, tab.time],
                            **private, **stop))
    redraw(tab.data.change(lambda d: gr.Group(visible=d == points2d.DRAWN), tab.data, tab.draw_group, **private,
                           **stop))
    redraw(demo.load(**read()))
    tab.time.release(view, described, pictures, api_name="playground_view", **quick)

    def clicked(drawn, evt: gr.SelectData):
        return api.add_point(drawn, *evt.index)

    redraw(tab.canvas.select(handler(clicked), tab.drawn, [tab.canvas, tab.drawn], api_name="playground_draw",
                             api_visibility="private", **quick, **stop))
    redraw(tab.clear.click(lambda: (api.canvas([]), []), None, [tab.canvas, tab.drawn], **private, **stop))
    tab.pause.click(None, None, None, api_visibility="private", **stop)
    tab.step.click(**read()).then(handler(api.playground_step), [*described, tab.update], pictures,
                                  api_name="playground_step", **quick)
    for button, side in ((tab.step_d, "discriminator"), (tab.step_g, "generator")):
        button.click(**read()).then(handler(lambda *a, side=side: api.playground_step(*a, update=side)), described,
                                    pictures, api_visibility="private", **quick)
    tab.reset.click(None, None, None, api_visibility="private", **stop).then(**read()).then(
        handler(api.playground_reset), described, pictures, api_name="playground_reset", **quick)
