"""build_app(): the whole dashboard as a gr.Blocks, built but never launched here."""

import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline-first: no calls home
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from genlab import REPO, limits  # noqa: E402
from genlab.limits import ServerLimits  # noqa: E402
from genlab.ui.errors import name_bad_numbers  # noqa: E402
from genlab.ui.fair_queue import cap_waiting_per_client  # noqa: E402
from genlab.ui.gpu import on_zero_gpu  # noqa: E402
from genlab.ui.outputs import OutputFiles  # noqa: E402
from genlab.ui.quick_first import QuickFirst  # noqa: E402
from genlab.ui.server import sign_in_options  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402
from genlab.ui import mcp_tools, theme  # noqa: E402
from genlab.ui.tabs import compare, diffusion, gan, playground, text, train, vae  # noqa: E402
from genlab.ui.train_run import TrainContext, new_session  # noqa: E402

INTRO = """# genlab: a hands-on generative-AI lab
Small generative models to play with, look inside and train, here on this machine, each picture made fresh.

**GAN** samples digits and a judge classifier checks each · **VAE** squeezes a digit through a small code
and back, and maps where digits live · **Diffusion** grows digits out of noise step by step · **Compare**
sets the image models side by side · **Playground** trains a tiny GAN, VAE or flow on 2-D points as you
watch · **Text** writes Shakespeare and shows what the model looked at · **Train** trains any of them live,
on digits, other pictures or your own text."""

# one tab per entry: (label, builder); builders take the Blocks and the Shared objects below
TABS = [("GAN", gan.build), ("VAE", vae.build), ("Diffusion", diffusion.build),
        ("Compare", compare.build), ("Playground", playground.build), ("Text", text.build), ("Train", train.build)]


@dataclass
class Shared:
    """What the tabs of one app share."""

    store: ModelStore  # shipped models and session runs
    limits: ServerLimits  # what one user may spend here (training runs, diffusion requests, uploads)
    trainer: TrainContext  # the one-run-at-a-time trainer and its data
    session: gr.State  # this browser session's runs: {"runs": {label: {family, folder}}, "current": label}
    outputs: OutputFiles  # downloadable files the tabs write
    pacer: QuickFirst  # heavy-lane streams wait for the quick lane (CPU only: there lanes share the cores)


def build_app(device: str = "", public: bool = False, mcp: bool = False) -> gr.Blocks:
    """The dashboard; `public` applies the tighter training limits meant for shared servers; `mcp`
    adds the typed endpoints an MCP server offers as tools (genlab.ui.mcp_tools)."""
    run_limits = limits.ZERO_GPU if on_zero_gpu() else limits.PUBLIC if public else limits.LOCAL
    run_limits = limits.with_listed_hub_models(run_limits, os.environ)  # public: only $GENLAB_HUB_MODELS
    store = ModelStore(device, idle_run_seconds=run_limits.idle_run_seconds, max_runs=run_limits.max_runs,
                       hub_models=run_limits.hub_models)
    with gr.Blocks(title="genlab", delete_cache=(3600, 3600), analytics_enabled=False) as demo:
        idle = run_limits.idle_run_seconds
        # when Gradio lets go of a session (closed an hour ago, or idle past the limit), its runs go too
        session = gr.State(new_session(), time_to_live=None if idle == float("inf") else idle,
                           delete_callback=store.runs.forget_session)
        shared = Shared(store, run_limits, TrainContext(store, run_limits), session, OutputFiles(),
                        QuickFirst(demo, active=store.device.type == "cpu"))
        gr.Markdown(INTRO, elem_id="landing")
        with gr.Tabs():
            for label, build in TABS:
                with gr.Tab(label, id=label.lower()):
                    build(demo, shared)
        if mcp:
            mcp_tools.build(shared)
    return name_bad_numbers(demo)


QUEUE_SIZE = 64  # requests waiting beyond this are refused at once rather than piling up


def prepare(demo: gr.Blocks) -> gr.Blocks:
    """The queue every launch uses (app.py, tests, benchmarks).

    `api_open=False` closes /gradio_api/run/*, which would otherwise bypass the queue and its
    limits; gradio_client and the browser go through the queue and keep working.
    `status_update_rate=1.0`: queued users get their position once a second instead of every waiting
    user getting a message each time any job starts (benchmarks/load_test.py measures the difference).
    """
    queued = demo.queue(default_concurrency_limit=1, api_open=False, max_size=QUEUE_SIZE, status_update_rate=1.0)
    return cap_waiting_per_client(queued)


PUBLIC_SESSIONS = 256  # the least recently used session past this is forgotten (its runs are swept later)
MAX_UPLOAD = "5mb"  # public uploads (a digit picture, a .txt corpus) never need more


def blocked_paths() -> list:
    """The repo (code, weights/, .git, any stray .env): Gradio serves a file a handler returns from
    anywhere under the working directory, so block it outright. Skipped when Gradio's upload folder
    or the temp dir (our outputs) lies inside it, because blocking would then break every output."""
    ours = [Path(gr.utils.get_upload_folder()).resolve(), Path(tempfile.gettempdir()).resolve()]
    return [] if any(path.is_relative_to(REPO) for path in ours) else [str(REPO)]


def launch_options(public: bool = False, auth=None, mcp: bool = False) -> dict:
    """Settings every launch shares: styling and no unauthenticated monitoring endpoint.

    Public launches also hide internals in error messages (our gr.Errors still reach users),
    cap upload size, block the repo and keep at most PUBLIC_SESSIONS
    browser sessions in memory (Gradio's default, 10,000, each with a copy of the page's config,
    is more than a shared CPU serves at once). allowed_paths stays unset.
    `auth` ([(user, password), ...]) requires a sign-in on every route, with failed sign-ins limited.
    `mcp` serves Gradio's MCP server (off unless asked for, whatever GRADIO_MCP_SERVER says).
    """
    options = {"css": theme.css(), "theme": theme.THEME, "enable_monitoring": False, "mcp_server": mcp}
    if public:
        options.update(show_error=False, max_file_size=MAX_UPLOAD, blocked_paths=blocked_paths(),
                       state_session_capacity=PUBLIC_SESSIONS)
    if auth:
        options.update(sign_in_options(auth))
    return options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_in_process(demo: gr.Blocks, public: bool = False, auth=None, mcp: bool = False) -> str:
    """Serve `demo` on 127.0.0.1 at a free port without blocking; returns its URL (tests, benchmarks).
    With `mcp`, `demo` must come from build_app(mcp=True); its MCP server offers only mcp_tools.TOOLS."""
    _, url, _ = mcp_tools.launch_quietly(prepare(demo).launch, prevent_thread_lock=True, server_name="127.0.0.1",
                                         server_port=free_port(), quiet=True, **launch_options(public, auth, mcp))
    if mcp:
        mcp_tools.keep_only_tools(demo)
    return url
