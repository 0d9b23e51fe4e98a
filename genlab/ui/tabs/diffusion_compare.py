"""Compare solvers: the same seed and digit through DDPM, DDIM, DPM-Solver++ and its SDE form at equal steps."""

import time

import gradio as gr

from genlab import limits
from genlab.limits import ServerLimits
from genlab.models.diffusion import solver_comparison, viewer
from genlab.models.sampling import DIGIT_CHOICES
from genlab.ui import class_names, forms
from genlab.ui.gpu import DENOISE_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.pictures import picture
from genlab.ui.quick_first import QuickFirst
from genlab.ui.store import PRETRAINED, ModelStore


def compare_stream(store: ModelStore, server: ServerLimits, digit, n, seed, steps, guidance, model=PRETRAINED,
                   session=None):
    """Stream the four solvers' panels as they run; finally every solver's digits, time and verdict."""
    request = solver_comparison.comparison_request(digit, n, seed, steps, guidance)
    # every solver denoises its own n digits: counted as n x solvers digits, before any model work
    limits.check_denoising(request.n * len(solver_comparison.SOLVERS), request.steps,
                           solver_comparison.branches(request), server)
    chosen = store.choose("diffusion", model, session)
    judge, _ = class_names.judge_for_model(store, "diffusion", model, session)  # None: a run on other data, unjudged
    shown = 0.0
    for state in solver_comparison.compare(chosen, judge, request):
        if not state.done and time.perf_counter() - shown < viewer.FRAME_SECONDS and state.step < state.steps:
            continue
        shown = time.perf_counter()
        progress = (f"**{state.running}** step {state.step} / {state.steps} · "
                    f"{len(state.results)} of {len(solver_comparison.SOLVERS)} solvers done"
                    if state.running else "**Done**: same seed, same digits asked for, "
                                          f"{request.steps} steps each, guidance {request.guidance:g}.")
        yield solver_comparison.panels(state, request), progress + "\n\n" + solver_comparison.table(state, request)


def build_and_wire(store: ModelStore, server: ServerLimits, model, session, pacer: QuickFirst) -> None:
    """The 'Compare solvers' accordion; it runs in the denoising lane and Stop ends it on the server."""
    with gr.Accordion("Compare solvers", open=False, elem_id="diffusion-compare-box"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                digit = gr.Dropdown(DIGIT_CHOICES, value="3", label="Digit", elem_id="diffusion-compare-digit")
                class_names.follow_model(model, "diffusion", store, session, [(digit, ("mix",), ())])
                n = gr.Slider(1, solver_comparison.MAX_SAMPLES, value=4, step=1, label="Digits per solver")
                steps = gr.Slider(1, solver_comparison.MAX_STEPS, value=20, step=1, label="Steps (every solver)",
                                  elem_id="diffusion-compare-steps")
                guidance = gr.Slider(0, 10, value=1.2, step=0.05, label="Guidance w (every solver)")
                seed = forms.seed_box("Seed", 0)
                with gr.Row():
                    go = gr.Button("Compare solvers", variant="primary", elem_id="diffusion-compare")
                    stop = gr.Button("Stop", variant="stop", elem_id="diffusion-compare-stop")
            with gr.Column(scale=3):
                panels = picture("Each solver from the same noise", "diffusion-compare-panels")
                report = gr.Markdown(elem_id="diffusion-compare-table", label="Times and verdicts", show_label=False)
    # the previous comparison goes at the click, so a refused request or a Stop never sits beside it
    cleared = go.click(lambda: (None, "Starting..."), None, [panels, report], api_visibility="private", queue=False)
    event = cleared.then(handler(compare_stream, store, server, gpu_seconds=DENOISE_GPU_SECONDS, pacer=pacer),
                         [digit, n, seed, steps, guidance, model, session], [panels, report],
                         api_name="diffusion_compare_solvers", **store.lane("denoising"))
    stop.click(None, None, None, cancels=[event], api_visibility="private", queue=False)
    event.failure(stopped, report, report, api_visibility="private", queue=False)  # after the stream has ended


def stopped(report: str):
    """The report after Stop: where the comparison was, said plainly (nothing if it had finished)."""
    if not report or report.startswith("**Done**") or report.startswith("**Stopped**"):
        return gr.skip()
    where, _, table = report.partition("\n\n")
    return f"**Stopped** ({where.replace('**', '')}). The panels show where each solver had got to.\n\n{table}"
