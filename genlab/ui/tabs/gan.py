"""The GAN tab: sample digits, see what the judge makes of them, walk between two latents."""

import os
import random
from typing import Tuple

import gradio as gr
import numpy as np

from genlab import images, params
from genlab.eval import metrics
from genlab.models import sampling
from genlab.params import RequestError
from genlab.ui import class_names, docs, forms
from genlab.ui.gpu import SAMPLE_GPU_SECONDS, on_zero_gpu
from genlab.ui.handlers import handler
from genlab.ui.outputs import OutputFiles
from genlab.ui.pictures import picture
from genlab.ui.store import PRETRAINED, ModelStore


def _truncation(value):
    """The UI's slider uses 0 for 'off'; the library uses None."""
    return None if value in (None, 0) else value


def sample_grid(store: ModelStore, digit, n, seed, truncation, model=PRETRAINED, session=None) -> np.ndarray:
    """The crisp grid of `n` samples: (H, W) uint8, nearest-neighbour upscaled."""
    return sample_grids(store, [digit], [n], [seed], [truncation], [model], [session])[0][0]


def sample_grids(store: ModelStore, digit, n, seed, truncation, model, session) -> list:
    """sample_grid for a batch of users (Gradio `batch=True`: each argument is a list with one value
    per user, named in the singular as API clients see it; one list per output).

    What a batch shares is Gradio's work per call (one job, one thread hop); each request still has
    its own generator pass, so it gets exactly the grid sample_grid gives it (a pass over several
    requests at once rounds differently) and memory stays that of one request. A bad request never
    fails the others batched with it: alone it raises its RequestError; among valid ones it gets a
    picture of the message instead of digits."""
    answers = []  # per user: a checked DigitRequest, then its grid; or the RequestError that refused it
    for one in zip(digit, n, seed, truncation):
        try:
            answers.append(sampling.digit_request(*one[:3], _truncation(one[3])))
        except RequestError as err:
            answers.append(err)
    for i, request in enumerate(answers):  # every request checked before any model work
        if not isinstance(request, RequestError):
            try:
                samples = sampling.sample_digits(store.choose("gan", model[i], session[i]), request)
                answers[i] = images.grid(samples, columns=sampling.columns_for(request), scale=3)
            except RequestError as err:  # a run label this session does not have, for one
                answers[i] = err
    refusals = [answer for answer in answers if isinstance(answer, RequestError)]
    if len(refusals) == len(answers):
        raise refusals[0]
    grids = [images.message(str(answer)) if isinstance(answer, RequestError) else answer for answer in answers]
    return [grids]


MAX_BATCH = 16  # requests one batched call serves; one forward each, so memory does not grow with it


def max_batch() -> int:
    """Requests one batched call may serve ($GENLAB_MAX_BATCH, 1-64, default MAX_BATCH; 1 turns batching
    off; benchmarks/load_test.py --batching on off measures both)."""
    chosen = os.environ.get("GENLAB_MAX_BATCH", str(MAX_BATCH))
    return params.check_value("GENLAB_MAX_BATCH", int(chosen), int, 1, 64)


CAPTION_CHARACTERS = 7  # of a class name under a digit-sized picture


def judge_verdicts(store: ModelStore, digit, n, seed, truncation, model=PRETRAINED,
                   session=None) -> Tuple[object, str]:
    """The same samples with the judge's verdict under each, and a one-line summary."""
    request = sampling.digit_request(digit, n, seed, _truncation(truncation))
    chosen = store.choose("gan", model, session)
    samples = sampling.sample_digits(chosen, request)
    wanted = sampling.labels_for(request.n, request.digit, sampling.classes_of(chosen))
    names = class_names.classes_for(store, "gan", model, session)
    judge, note = class_names.judge_for_model(store, "gan", model, session)
    if judge is None:  # a run on other data and no judge trained on it: the classes asked for, unjudged
        picture = images.grid(samples, columns=sampling.columns_for(request), scale=3)
        return picture, f"Asked for: {', '.join(dict.fromkeys(names[w] for w in wanted.tolist()))}. {note}."
    confidence, predicted = metrics.judge_outputs(judge, samples)["probs"].max(1)
    correct = (predicted == wanted).tolist()
    captions = [f"{names[p][:CAPTION_CHARACTERS]} {c:.0%}" for p, c in zip(predicted.tolist(), confidence.tolist())]
    picture = images.annotated_grid(samples, captions, correct, columns=sampling.columns_for(request))
    wrong = [i for i, ok in enumerate(correct) if not ok]
    summary = f"**The judge agrees on {sum(correct)} of {request.n}** ({sum(correct) / request.n:.0%})."
    if wrong:
        summary += " Disagreements: " + "; ".join(
            f"#{i + 1} asked for {names[wanted[i]]}, looks like {names[predicted[i]]} ({confidence[i]:.0%})"
            for i in wrong[:8]) + (" ..." if len(wrong) > 8 else "")
    return picture, summary + (f" {note}." if note else "")


def interpolation(store: ModelStore, outputs: OutputFiles, digit, seed_a, seed_b, steps, truncation,
                  model=PRETRAINED, session=None) -> Tuple[np.ndarray, str]:
    """A strip from seed A to seed B, and the same frames as a looping GIF (its download button saves it)."""
    request = sampling.interpolation_request(digit, seed_a, seed_b, steps, _truncation(truncation))
    frames = sampling.interpolate(store.choose("gan", model, session), request)
    gif = outputs.gif(images.frames(frames), f"gan-{request.digit}-{request.seed_a}-{request.seed_b}")
    return images.strip(frames, scale=3), gif


NEW_SEEDS = 100_000  # new seeds are drawn below this: short enough to read and type back


def fresh_seed(seed, pinned: bool):
    """The seed Sample uses: a new one unless the user pinned it (then the same grid, on purpose)."""
    return seed if pinned else random.randrange(NEW_SEEDS)


def build(demo: gr.Blocks, shared) -> None:
    """Lay out the tab inside `demo`'s current context and wire its events (samples show on page load)."""
    store, session = shared.store, shared.session
    limits = store.lane("quick")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = forms.model_picker("gan", session, store.hub_models)
            digit = gr.Dropdown(sampling.DIGIT_CHOICES, value="mix", label="Digit", elem_id="gan-digit",
                                info="'mix' draws every digit, one column each")
            n = gr.Slider(1, sampling.MAX_SAMPLES, value=40, step=1, label="Number of samples", elem_id="gan-n")
            with gr.Row(elem_id="gan-seed-row"):
                seed = forms.seed_box("Seed", 0)
                dice = gr.Button("New seed", elem_id="gan-new-seed", scale=0, min_width=110, size="md")
            pinned = gr.Checkbox(False, label="Pin the seed (else each Sample draws a new one)", elem_id="gan-pin")
            truncation = gr.Slider(0, sampling.TRUNCATION_RANGE[1], value=0, step=0.1,
                                   label="Truncation t (0 = off)", info="lower: cleaner, less varied")
            button = gr.Button("Sample", variant="primary", elem_id="gan-sample")
        with gr.Column(scale=3):
            grid = picture("Samples, with the judge's verdict under each (red: not the digit asked for)",
                           "gan-grid")
            verdict_text = gr.Markdown(elem_id="gan-verdict-text", label="The judge's summary", show_label=False)
            crisp = picture("Samples", "gan-samples", image_mode="L", visible=False)  # the gan_sample endpoint's
    with gr.Accordion("Latent interpolation", open=False):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                i_digit = gr.Dropdown(sampling.DIGIT_CHOICES[1:], value="3", label="Digit")
                seed_a = forms.seed_box("Seed A", 0)
                seed_b = forms.seed_box("Seed B", 1)
                steps = gr.Slider(*sampling.INTERPOLATION_STEPS, value=10, step=1, label="Steps")
                i_button = gr.Button("Interpolate", elem_id="gan-interpolate")
            with gr.Column(scale=3):
                strip = picture("Seed A -> seed B", "gan-strip", image_mode="L")
                animation = picture("Animation (GIF)", "gan-gif", type="filepath")
    docs.explainer("gan", model, store, session)
    class_names.follow_model(model, "gan", store, session, [(digit, ("mix",), ()), (i_digit, (), ())])

    inputs = [digit, n, seed, truncation, model, session]
    judged = handler(judge_verdicts, store, gpu_seconds=SAMPLE_GPU_SECONDS)
    outputs = [grid, verdict_text]

    def cleared_on_failure(event) -> None:  # no summary of an earlier grid beside an error
        event.failure(lambda: (None, ""), None, outputs, api_visibility="private", queue=False)

    cleared_on_failure(gr.on([demo.load, model.change, digit.change, n.release, truncation.release, seed.submit],
                             judged, inputs, outputs, api_name="gan_judge", trigger_mode="always_last", **limits))
    for reseed in (button.click(fresh_seed, [seed, pinned], seed, api_visibility="private", queue=False),
                   dice.click(lambda: random.randrange(NEW_SEEDS), None, seed, api_visibility="private", queue=False)):
        cleared_on_failure(reseed.then(judged, inputs, outputs, api_visibility="private", **limits))
    # the crisp grid alone, for API clients; batched across users (max_batch)
    gr.on([], handler(sample_grids, store, gpu_seconds=SAMPLE_GPU_SECONDS), inputs, crisp, api_name="gan_sample",
          batch=True, max_batch_size=max_batch(), **limits)
    i_button.click(handler(interpolation, store, shared.outputs, gpu_seconds=SAMPLE_GPU_SECONDS),
                   [i_digit, seed_a, seed_b, steps, truncation, model, session], [strip, animation],
                   api_name="gan_interpolate", **limits)

    async def warm_up():  # on the server's start, not at build: a built app that is never served loads nothing
        store.in_background(judge_verdicts, "mix", n.value, seed.value, 0)  # what a page's first visit asks

    if not on_zero_gpu():  # there the GPU exists only inside a request
        demo.extra_startup_events.append(warm_up)
