"""The Compare tab: one digit from every image family side by side, with time and quality figures."""

from functools import partial

import gradio as gr

from genlab import images
from genlab.eval import compare
from genlab.models import sampling
from genlab.ui.errors import user_errors
from genlab.ui.gpu import SAMPLE_GPU_SECONDS, gpu
from genlab.ui.store import ModelStore

EXPLAINER = """Each family draws the same digit with the same seed; the table puts the time this click took
next to each model's measured quality (`python -m genlab eval <family>`, 10,000 samples): **FID / floor**
(1.0 would be as close to the test digits as real training digits are; lower is better),
**class fidelity** (how often the judge sees the digit that was asked for) and the classifier
**inception score** (10 = confident and balanced). The trade-off to look for: the GAN answers in one
network call, diffusion needs many, and the VAE cannot be asked for a digit at all."""


def compare_digits(store: ModelStore, digit, n, seed):
    """One grid per image family (same order as compare.image_families()) and the figures table."""
    request = compare.compare_request(digit, n, seed)
    judge = store.get("judge")
    entries = [compare.draw(store.get(f.name), f, request, judge) for f in compare.image_families()]
    grids = [images.grid(e.samples, columns=len(e.samples), scale=3) if len(e.samples) else None for e in entries]
    return (*grids, compare.table(entries))


def build(demo: gr.Blocks, shared) -> None:
    store = shared.store
    with gr.Row():
        digit = gr.Dropdown(sampling.DIGIT_CHOICES[1:], value="3", label="Digit", elem_id="compare-digit")
        n = gr.Slider(1, compare.MAX_PER_FAMILY, value=8, step=1, label="Digits per model")
        seed = gr.Number(0, precision=0, minimum=0, maximum=sampling.MAX_SEED, label="Seed")
        button = gr.Button("Compare", variant="primary", elem_id="compare-run")
    grids = [gr.Image(label=f.title, format="png", image_mode="L", elem_id=f"compare-{f.name}",
                      elem_classes=["compare-grid"]) for f in compare.image_families()]
    figures = gr.Markdown(elem_id="compare-table")
    gr.Markdown(EXPLAINER)
    button.click(user_errors(gpu(SAMPLE_GPU_SECONDS)(partial(compare_digits, store))), [digit, n, seed],
                 [*grids, figures], api_name="compare", **store.lane("denoising"))
