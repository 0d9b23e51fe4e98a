"""The Diffusion tab: sample digits and watch them emerge from noise, step by step."""

import re
import threading
import time
from typing import Optional

import gradio as gr

from genlab import limits
from genlab.limits import ServerLimits
from genlab.models.diffusion import schedulers, viewer
from genlab.ui import class_names, docs, forms
from genlab.ui.gpu import DENOISE_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.outputs import OutputFiles
from genlab.ui.pictures import picture
from genlab.ui.schedule_plot import schedule_picture
from genlab.ui.store import PRETRAINED, ModelStore
from genlab.ui.tabs import diffusion_compare

SCHEDULER_CHOICES = [(choice.title, name) for name, choice in schedulers.SCHEDULERS.items()]
DEFAULT = schedulers.SamplerSettings.checked()  # the sampler metrics.json scores: what people see first is what is measured
LONG_SECONDS = 60  # requests expected to take longer get a warning before the work starts
LIVE_LABEL = "Noisy x_t and the model's guess of the clean digits x_0"


def _clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S" if seconds >= 3600 else "%M:%S", time.gmtime(seconds))


class DenoiseClock:
    """Seconds per network evaluation of one digit on this server, from the requests it served."""

    def __init__(self):
        self.per_evaluation: Optional[float] = None
        self._lock = threading.Lock()

    def record(self, evaluations: int, seconds: float) -> None:
        if evaluations < 50:  # too short to time: start-up costs dominate
            return
        with self._lock:
            rate = seconds / evaluations
            self.per_evaluation = rate if self.per_evaluation is None else 0.7 * self.per_evaluation + 0.3 * rate

    def estimate(self, evaluations: int) -> Optional[float]:
        return None if self.per_evaluation is None else evaluations * self.per_evaluation


def cost_text(clock: DenoiseClock, digit, n, scheduler, steps, guidance) -> str:
    """What a request will cost, shown before it runs: evaluations, and the time where it is known."""
    try:
        request = viewer.diffusion_request(digit, n, 0, scheduler, steps, guidance)
    except Exception as err:  # the form is mid-edit: say what is wrong, the request itself will refuse it
        return f"*{err}*"
    branches = viewer.branches(request)
    evaluations = request.n * request.settings.steps * branches
    guided = " x 2 for guidance" if branches == 2 else ""
    text = f"{request.n} digits x {request.settings.steps} steps{guided} = {evaluations:,} network evaluations"
    seconds = clock.estimate(evaluations)
    if seconds is None:
        return text + " (the time shows after the first request)"
    if seconds > LONG_SECONDS:
        return f"{text}: **about {_clock(seconds)} on this machine**; fewer steps or digits are faster"
    return f"{text}: about {seconds:.1f} s on this machine"


def schedule_view(store: ModelStore, scheduler, steps, model=PRETRAINED, session=None):
    """The chosen model's noise schedule (alpha-bar and log-SNR over t) with the timesteps `scheduler` visits."""
    settings = schedulers.sampler(scheduler, steps, 1.0)  # validated before any model work
    chosen = store.choose("diffusion", model, session)
    return schedule_picture(viewer.noise_schedule(chosen, settings), SCHEDULERS_SHORT[settings.scheduler])


SCHEDULERS_SHORT = {name: choice.title.split(" (")[0] for name, choice in schedulers.SCHEDULERS.items()}


def denoise_stream(store: ModelStore, outputs: OutputFiles, server: ServerLimits, clock: DenoiseClock,
                   digit, n, seed, scheduler, steps, guidance, model=PRETRAINED, session=None):
    """Stream (x_t | predicted x_0) and the noise schedule with the step marked while sampling; finally the
    kept frames, the scrubber and a GIF.

    The first frame clears the previous run's scrubber and GIF, so only this run's results show."""
    request = viewer.diffusion_request(digit, n, seed, scheduler, steps, guidance)
    branches = viewer.branches(request)
    limits.check_denoising(request.n, request.settings.steps, branches, server)
    chosen = store.choose("diffusion", model, session)
    evaluations = request.n * request.settings.steps * branches
    expected = clock.estimate(evaluations)
    if expected is not None and expected > LONG_SECONDS:
        gr.Warning(f"This request needs {evaluations:,} network evaluations: about {_clock(expected)} here. "
                   f"Press Stop to cancel it.")
    schedule = viewer.noise_schedule(chosen, request.settings)
    solver = SCHEDULERS_SHORT[request.settings.scheduler]
    began = time.perf_counter()
    skip, cleared = gr.skip(), gr.Slider(0, 1, value=0, interactive=False, label="Kept steps")
    first = True
    for view in viewer.watch(chosen, request):
        if view.noisy is None or view.done:
            continue
        elapsed = time.perf_counter() - began
        rate = view.index / max(elapsed, 1e-9)
        status = (f"step **{view.index} / {view.steps}** (t = {view.timestep}) · {rate:.1f} steps/s · "
                  f"ETA {_clock((view.steps - view.index) / rate)}")
        frame = viewer.pair(view.noisy, view.clean)
        plot = schedule_picture(schedule, solver, (view.index, view.steps, view.timestep))
        yield (frame, status, [], cleared, None, plot) if first else (frame, status, skip, skip, skip, plot)
        first = False
    seconds = time.perf_counter() - began
    clock.record(evaluations, seconds)
    guided = "no label" if request.unconditional else f"guidance {request.settings.guidance:g}"
    status = (f"**Done**: {request.n} digits, {request.settings.steps} {request.settings.scheduler} steps, "
              f"{guided}, in {seconds:.2f} s ({1000 * seconds / request.n:.0f} ms per digit).")
    frames = [viewer.arranged(noisy, clean) for _, _, noisy, clean in view.kept]  # upscaled by CSS: a small file
    gif = outputs.gif(frames, f"diffusion-{request.settings.scheduler}-{request.seed}", bounce=False)
    scrubber = gr.Slider(0, max(1, len(view.kept) - 1), value=len(view.kept) - 1, step=1, interactive=True,
                         label=f"Kept steps (of {view.steps})")
    plot = schedule_picture(schedule, solver, (view.index, view.steps, view.timestep))
    yield viewer.pair(view.noisy, view.clean), status, view.kept, scrubber, gif, plot


def scrub(kept, position):
    """The kept frame at the scrubber's position, and what it shows."""
    step, timestep, noisy, clean = viewer.check_kept(kept, position)
    return viewer.pair(noisy, clean), f"step {step} (t = {timestep})"


STEP_SHOWN = re.compile(r"step \*\*(\d+) / (\d+)\*\*")


def stopped(status: str):
    """The status after Stop: where the run was, in place of its progress line (nothing if it had finished)."""
    found = STEP_SHOWN.search(status or "")
    if not found:
        return gr.skip()
    return (f"**Stopped** at step {found[1]} of {found[2]}: the picture shows x_t and the guess at that step. "
            f"Press Sample to start again.")


def build(demo: gr.Blocks, shared) -> None:
    store, session = shared.store, shared.session
    clock = DenoiseClock()
    concurrency = store.lane("denoising")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = forms.model_picker("diffusion", session, store.hub_models)
            digit = gr.Dropdown(viewer.DIGIT_CHOICES, value="mix", label="Digit", elem_id="diffusion-digit",
                                info="'mix': every digit, one column each; 'none': no label (unconditional)")
            class_names.follow_model(model, "diffusion", store, session, [(digit, ("mix",), (viewer.UNCONDITIONAL,))])
            n = gr.Slider(1, viewer.MAX_SAMPLES, value=20, step=1, label="Number of samples",
                          elem_id="diffusion-n")
            scheduler = gr.Radio(SCHEDULER_CHOICES, value=DEFAULT.scheduler, label="Scheduler")
            steps = gr.Slider(1, 1000, value=DEFAULT.steps, step=1, label="Steps", elem_id="diffusion-steps",
                              info="network evaluations; DPM-Solver++ takes at most "
                                   f"{schedulers.SCHEDULERS['dpm++'].max_steps}")
            guidance = gr.Slider(0, schedulers.MAX_GUIDANCE, value=DEFAULT.guidance, step=0.05,
                                 label="Guidance w", info="1: plain conditional; higher: clearer, less varied")
            seed = forms.seed_box("Seed", 0)
            cost = gr.Markdown(cost_text(clock, "mix", 20, DEFAULT.scheduler, DEFAULT.steps, DEFAULT.guidance),
                               elem_id="diffusion-cost")
            with gr.Row():
                button = gr.Button("Sample", variant="primary", elem_id="diffusion-sample")
                stop = gr.Button("Stop", variant="stop", elem_id="diffusion-stop")
        with gr.Column(scale=3):
            status = gr.Markdown("Press **Sample** to watch digits emerge from noise.", elem_id="diffusion-status",
                                 label="Status", show_label=False)
            live = picture(LIVE_LABEL, "diffusion-live", image_mode="L")
            kept = gr.State([])
            scrubber = gr.Slider(0, 1, value=0, step=1, label="Kept steps", interactive=False,
                                 elem_id="diffusion-scrubber")
            animation = picture("Trajectory (GIF)", "diffusion-gif", type="filepath")
            schedule = picture("Noise schedule, the solver's steps and the current one", "diffusion-schedule")
    diffusion_compare.build_and_wire(store, shared.limits, model, session, shared.pacer)
    docs.explainer("diffusion", model, store, session)

    show_schedule = handler(schedule_view, store)
    chose = scheduler.change(lambda name: (gr.Slider(value=schedulers.SCHEDULERS[name].default_steps),
                                           gr.Slider(value=schedulers.SCHEDULERS[name].default_guidance)),
                             scheduler, [steps, guidance], api_visibility="private", queue=False)
    # after the steps moved to the new solver's own: the schedule is drawn for the steps it will take
    chose.then(show_schedule, [scheduler, steps, model, session], schedule, api_visibility="private",
               **store.lane("quick"))
    costed = [digit, n, scheduler, steps, guidance]
    gr.on([c.change for c in costed], lambda *values: cost_text(clock, *values), costed, cost,
          api_visibility="private", queue=False)
    sample = handler(denoise_stream, store, shared.outputs, shared.limits, clock, gpu_seconds=DENOISE_GPU_SECONDS,
                     pacer=shared.pacer)
    results = [live, status, kept, scrubber, animation, schedule]
    # the previous run's results go at the click, so a refused request or a Stop never sits beside them
    cleared = button.click(lambda: (None, "Starting...", [], gr.Slider(0, 1, value=0, interactive=False,
                                                                        label="Kept steps"), None, gr.skip()),
                           None, results, api_visibility="private", queue=False)
    event = cleared.then(sample, [digit, n, seed, scheduler, steps, guidance, model, session], results,
                         api_name="diffusion_sample", **concurrency)
    event.then(lambda *values: cost_text(clock, *values), costed, cost, api_visibility="private", queue=False)
    stop.click(None, None, None, cancels=[event], api_visibility="private", queue=False)
    # after the stopped stream has ended (a cancel ends it as a failure), so no late frame or error state
    # can overwrite the message
    event.failure(stopped, status, status, api_visibility="private", queue=False)
    gr.on([steps.release, model.change], show_schedule, [scheduler, steps, model, session], schedule,
          api_name="diffusion_schedule", trigger_mode="always_last", **store.lane("quick"))
    # .input: a drag and a number typed into the slider's box both move the picture
    scrubber.input(handler(scrub), [kept, scrubber], [live, status], api_name="diffusion_scrub",
                   trigger_mode="always_last", **store.lane("quick"))
