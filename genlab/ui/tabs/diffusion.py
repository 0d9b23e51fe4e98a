"""The Diffusion tab: sample digits and watch them emerge from noise, step by step."""

import time

import gradio as gr

from genlab import limits
from genlab.limits import ServerLimits
from genlab.models.diffusion import schedulers, viewer
from genlab.ui import docs, forms
from genlab.ui.gpu import DENOISE_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.outputs import OutputFiles
from genlab.ui.store import PRETRAINED, ModelStore

SCHEDULER_CHOICES = [(choice.title, name) for name, choice in schedulers.SCHEDULERS.items()]
DEFAULT = schedulers.SamplerSettings.checked()  # the sampler metrics.json scores: what people see first is what is measured


def denoise_stream(store: ModelStore, outputs: OutputFiles, server: ServerLimits, digit, n, seed, scheduler, steps,
                   guidance, model=PRETRAINED, session=None):
    """Stream (x_t | predicted x_0) while sampling; finally the kept frames, the scrubber and a GIF."""
    request = viewer.diffusion_request(digit, n, seed, scheduler, steps, guidance)
    limits.check_denoising(request.n, request.settings.steps, viewer.branches(request), server)
    chosen = store.choose("diffusion", model, session)
    began = time.perf_counter()
    skip = gr.skip()
    for view in viewer.watch(chosen, request):
        if view.noisy is None:
            continue
        picture = viewer.side_by_side(view.noisy, view.clean)
        status = f"step **{view.index} / {view.steps}** (t = {view.timestep})"
        if not view.done:
            yield picture, status, skip, skip, skip, skip
    seconds = time.perf_counter() - began
    status = (f"**Done**: {request.n} digits, {request.settings.steps} {request.settings.scheduler} steps, "
              f"guidance {request.settings.guidance:g}, in {seconds:.2f} s ({1000 * seconds / request.n:.0f} ms per digit).")
    frames = [viewer.side_by_side(noisy, clean, scale=1) for _, _, noisy, clean in view.kept]  # upscaled by CSS
    gif = outputs.gif(frames, f"diffusion-{request.settings.scheduler}-{request.seed}", bounce=False)
    scrubber = gr.Slider(0, max(1, len(view.kept) - 1), value=len(view.kept) - 1, step=1, interactive=True,
                         label=f"Kept steps (of {view.steps})")
    yield picture, status, view.kept, scrubber, gif, gif


def scrub(kept, position):
    """The kept frame at the scrubber's position, and what it shows."""
    step, timestep, noisy, clean = viewer.check_kept(kept, position)
    return viewer.side_by_side(noisy, clean), f"step {step} (t = {timestep})"


def build(demo: gr.Blocks, shared) -> None:
    store, session = shared.store, shared.session
    concurrency = store.lane("denoising")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            model = forms.model_picker("diffusion", session)
            digit = gr.Dropdown(viewer.DIGIT_CHOICES, value="mix", label="Digit", elem_id="diffusion-digit",
                                info="'mix': every digit, one column each; 'none': no label (unconditional)")
            n = gr.Slider(1, viewer.MAX_SAMPLES, value=20, step=1, label="Number of samples",
                          elem_id="diffusion-n")
            scheduler = gr.Radio(SCHEDULER_CHOICES, value=DEFAULT.scheduler, label="Scheduler")
            steps = gr.Slider(1, 1000, value=DEFAULT.steps, step=1, label="Steps", elem_id="diffusion-steps",
                              info="network evaluations; DPM-Solver++ takes at most "
                                   f"{schedulers.SCHEDULERS['dpm++'].max_steps}")
            guidance = gr.Slider(0, schedulers.MAX_GUIDANCE, value=DEFAULT.guidance, step=0.05,
                                 label="Guidance w", info="1: plain conditional; higher: clearer, less varied")
            seed = forms.seed_box("Seed", 0)
            with gr.Row():
                button = gr.Button("Sample", variant="primary", elem_id="diffusion-sample")
                stop = gr.Button("Stop", elem_id="diffusion-stop")
        with gr.Column(scale=3):
            status = gr.Markdown("Press **Sample** to watch digits emerge from noise.", elem_id="diffusion-status")
            live = gr.Image(label="Noisy x_t (left) and the model's guess of the clean digits x_0 (right)",
                            format="png", image_mode="L", elem_id="diffusion-live", buttons=["download", "fullscreen"])
            kept = gr.State([])
            scrubber = gr.Slider(0, 1, value=0, step=1, label="Kept steps", interactive=False,
                                 elem_id="diffusion-scrubber")
            with gr.Row():
                animation = gr.Image(label="Trajectory", type="filepath", elem_id="diffusion-gif")
                download = gr.File(label="Download the GIF")
    docs.explainer("diffusion")

    scheduler.change(lambda name: (gr.Slider(value=schedulers.SCHEDULERS[name].default_steps),
                                   gr.Slider(value=schedulers.SCHEDULERS[name].default_guidance)),
                     scheduler, [steps, guidance], api_visibility="private", queue=False)
    sample = handler(denoise_stream, store, shared.outputs, shared.limits, gpu_seconds=DENOISE_GPU_SECONDS)
    event = button.click(sample, [digit, n, seed, scheduler, steps, guidance, model, session],
                         [live, status, kept, scrubber, animation, download], api_name="diffusion_sample", **concurrency)
    stop.click(None, None, None, cancels=[event])
    scrubber.release(handler(scrub), [kept, scrubber], [live, status], api_name="diffusion_scrub", queue=False)
