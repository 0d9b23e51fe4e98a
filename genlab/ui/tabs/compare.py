"""The Compare tab: one digit from every image family side by side, with the time it took and every
measured quality figure (real data's own value and what the figure measures beside each)."""

import gradio as gr

from genlab import images
from genlab.eval import compare
from genlab.models import sampling
from genlab.ui import docs, forms
from genlab.ui.gpu import SAMPLE_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.pictures import picture
from genlab.ui.store import ModelStore


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
        with gr.Column(scale=1, min_width=280):
            digit = gr.Dropdown(sampling.DIGIT_CHOICES[1:], value="3", label="Digit", elem_id="compare-digit")
            n = gr.Slider(1, compare.MAX_PER_FAMILY, value=8, step=1, label="Digits per model", elem_id="compare-n")
            seed = forms.seed_box("Seed", 0)
            button = gr.Button("Compare", variant="primary", elem_id="compare-run")
        with gr.Column(scale=3):
            grids = [picture(f.title, f"compare-{f.name}", image_mode="L", elem_classes=["compare-grid"])
                     for f in compare.image_families()]
            figures = gr.Markdown(elem_id="compare-table", label="Time and quality", show_label=False)
    docs.explainer("compare")
    button.click(handler(compare_digits, store, gpu_seconds=SAMPLE_GPU_SECONDS), [digit, n, seed],
                 [*grids, figures], api_name="compare", **store.lane("denoising"))
