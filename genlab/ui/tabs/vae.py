"""The VAE tab: reconstruct any digit, walk between two, see where digits live in latent space."""

from __future__ import annotations

import weakref
from typing import Optional, Tuple

import gradio as gr
import numpy as np
import torch
from PIL import Image

from genlab import images
from genlab.eval import metrics
from genlab.models import sampling, vae
from genlab.ui import class_names, docs, forms
from genlab.ui.digit_input import SOURCES, ReferenceDigits, build_input, read_digit
from genlab.ui.gpu import SAMPLE_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.outputs import OutputFiles
from genlab.ui.pictures import picture
from genlab.ui.store import PRETRAINED, ModelStore
from genlab.ui.tabs import vae_point

MAP_POINTS = 2000  # test encodings drawn on the map
GRID = 15  # manifold grid size


class Encodings:
    """Test-set encodings and the map plane, computed once per model object."""

    def __init__(self, test: ReferenceDigits):
        self.test = test
        self._cache = weakref.WeakKeyDictionary()

    def get(self, model, choice: Optional[str] = None, session: Optional[dict] = None) -> Tuple[torch.Tensor, vae.Plane]:
        """`model`'s codes of the test pictures of the model `choice` names (a run's own, or MNIST's)."""
        if model not in self._cache:
            z = vae.encode(model, self.test.get(choice, session).images)
            self._cache[model] = (z, vae.plane_of(z))
        return self._cache[model]


def _triptych(original: np.ndarray, recon: np.ndarray, scale: int = 6) -> np.ndarray:
    """original | reconstruction | error heat map, (H, W, 3) uint8."""
    grey = lambda a: np.repeat((a * 255).astype(np.uint8)[..., None], 3, 2).repeat(scale, 0).repeat(scale, 1)  # noqa: E731
    gap = np.full((28 * scale, 8, 3), 255, dtype=np.uint8)
    return np.concatenate([grey(original), gap, grey(recon), gap, images.heat(np.abs(original - recon), scale)], 1)


def reconstruction(store: ModelStore, test: ReferenceDigits, source, index=0, digit="3", seed=0, upload=None,
                   sketch=None, model=PRETRAINED, session=None) -> Tuple[np.ndarray, str]:
    """The triptych and the ELBO terms (nats) and SSIM for the chosen digit (digit_input's picker values)."""
    digit = read_digit(test, source, index, digit, seed, upload, sketch, model, session)  # checked before model work
    model = store.choose("vae", model, session)
    original = digit.astype(np.float32) / 255
    recon = images.to_unit(vae.reconstruct(model, digit[None]))[0]
    binary = torch.bernoulli(torch.from_numpy(original)[None, None], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        terms = model.elbo_terms(binary.to(store.device), torch.zeros(1, model.config.latent_dim, device=store.device))
    text = (f"**ELBO** {float(terms['elbo']):.1f} nats = reconstruction log-likelihood {float(terms['recon']):.1f} "
            f"- KL {float(terms['kl']):.1f} (at the posterior mean, for this digit binarised) · "
            f"**SSIM** {metrics.ssim(original, recon):.3f} (1 = identical)")
    return _triptych(original, recon), text


def interpolation(store: ModelStore, test: ReferenceDigits, outputs: OutputFiles,
                  a_source, a_index=0, a_digit="3", a_seed=0, a_upload=None, a_sketch=None,
                  b_source=SOURCES[0], b_index=1, b_digit="3", b_seed=0, b_upload=None, b_sketch=None,
                  steps=10, mode="spherical", model=PRETRAINED, session=None) -> Tuple[np.ndarray, str]:
    """Decoded path from A's code to B's: a strip and a looping GIF (its download button saves it)."""
    a = read_digit(test, a_source, a_index, a_digit, a_seed, a_upload, a_sketch, model, session)
    b = read_digit(test, b_source, b_index, b_digit, b_seed, b_upload, b_sketch, model, session)
    steps, mode = vae.check_path(steps, mode)  # validated before any model work
    model = store.choose("vae", model, session)
    z_a, z_b = vae.encode(model, np.stack([a, b])).split(1)
    z = vae.path(z_a, z_b, steps, mode)
    with torch.no_grad():
        frames = model.decode(z).cpu()
    gif = outputs.gif(images.frames(frames), f"vae-{mode}")
    return images.strip(frames, scale=3), gif


def latent_map(store: ModelStore, test: ReferenceDigits, encodings: Encodings, source, index=0, digit="3", seed=0,
               upload=None, sketch=None, model=PRETRAINED, session=None) -> Tuple[Image.Image, np.ndarray, str]:
    """The test set on the map plane with the chosen digit ringed, and the decoded manifold grid."""
    choice = model
    digit = read_digit(test, source, index, digit, seed, upload, sketch, choice, session)
    model = store.choose("vae", choice, session)
    z, plane = encodings.get(model, choice, session)
    labels = test.get(choice, session).labels
    shown = np.random.default_rng(0).permutation(len(z))[:MAP_POINTS]
    uv = plane.project(z[shown]) / plane.spread
    mine = plane.project(vae.encode(model, digit[None]))[0]
    picture = images.scatter(uv.numpy(), labels[shown], (mine / plane.spread).numpy(), size=vae_point.MAP_SIZE,
                             extent=vae_point.MAP_EXTENT)
    grid = vae.manifold(model, plane, GRID, vae_point.MAP_EXTENT)
    where = vae.grid_position(plane, mine, GRID, vae_point.MAP_EXTENT)
    kind = "the whole 2-D latent space" if plane.exact else "the plane of the two main principal components"
    text = (f"Each dot is a test digit, placed by its code on {kind} (axes in standard deviations). "
            f"The ring is your digit" + (f"; it sits near row {where[0] + 1}, column {where[1] + 1} of the grid."
                                         if where else ", outside the grid's range.")
            + " **Click anywhere on the map** to see the digit the decoder draws there.")
    return picture, images.grid(grid, columns=GRID, scale=2, pad=0), text


def prior_samples(store: ModelStore, n, seed, model=PRETRAINED, session=None) -> np.ndarray:
    request = sampling.digit_request("mix", n, seed)
    return images.grid(sampling.sample_digits(store.choose("vae", model, session), request),
                       columns=sampling.columns_for(request), scale=3)


def build(demo: gr.Blocks, shared) -> None:
    store, session = shared.store, shared.session
    test = ReferenceDigits(runs=lambda choice, state: class_names.held_out_pictures(store, shared.trainer, "vae",
                                                                                     choice, state))
    encodings = Encodings(test)
    clicking = vae_point.ClickModels(store, encodings)
    limits = store.lane("quick")
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            model = forms.model_picker("vae", session, store.hub_models)
            picker = build_input("vae-a", "Input (A)")
            go = gr.Button("Reconstruct and map", variant="primary", elem_id="vae-go")
        with gr.Column(scale=2):
            triptych = picture("original | reconstruction | error", "vae-recon")
            terms = gr.Markdown(elem_id="vae-terms", label="ELBO and SSIM", show_label=False)
            with gr.Row():
                scatter = picture("Latent map (test digits by class)", "vae-map")
                manifold = picture("Decoded grid over the same plane", "vae-grid")
            map_text = gr.Markdown(elem_id="vae-map-text", label="Where your digit sits", show_label=False)
            point = vae_point.build()
    with gr.Accordion("Interpolate from A to B", open=False):
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                picker_b = build_input("vae-b", "Input (B)", default_index=1)
                steps = gr.Slider(*sampling.INTERPOLATION_STEPS, value=10, step=1, label="Steps")
                mode = gr.Radio(list(vae.INTERPOLATION_MODES), value="spherical", label="Path")
                walk = gr.Button("Interpolate", elem_id="vae-interpolate")
            with gr.Column(scale=2):
                strip = picture("A -> B", "vae-strip")
                animation = picture("Animation (GIF)", "vae-gif", type="filepath")
    with gr.Accordion("Samples from the prior", open=False):
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                n = gr.Slider(1, sampling.MAX_SAMPLES, value=40, step=1, label="Number of samples")
                seed = forms.seed_box("Seed", 0)
                draw = gr.Button("Sample", elem_id="vae-sample")
            with gr.Column(scale=2):
                prior = picture("Decoded prior samples", "vae-prior")
    docs.explainer("vae", model, store, session)
    class_names.follow_model(model, "vae", store, session, [(picker[2], (), ()), (picker_b[2], (), ())])

    one = [*picker, model, session]
    recon_event = go.click(handler(reconstruction, store, test, gpu_seconds=SAMPLE_GPU_SECONDS), one, [triptych, terms],
                           api_name="vae_reconstruct", **limits)
    recon_event.success(handler(latent_map, store, test, encodings, gpu_seconds=SAMPLE_GPU_SECONDS), one, [scatter, manifold, map_text],
                        api_name="vae_map", **limits)
    recon_event.failure(lambda: (None, "", None, None, ""), None, [triptych, terms, scatter, manifold, map_text],
                        api_visibility="private", queue=False)  # no results of an earlier digit beside an error
    vae_point.wire(point, scatter, clicking, shared.outputs, model, session)
    walk.click(handler(interpolation, store, test, shared.outputs, gpu_seconds=SAMPLE_GPU_SECONDS),
               [*picker, *picker_b, steps, mode, model, session], [strip, animation],
               api_name="vae_interpolate", **limits)
    draw.click(handler(prior_samples, store, gpu_seconds=SAMPLE_GPU_SECONDS), [n, seed, model, session], prior,
               api_name="vae_sample", **limits)
