"""Typed tools for programs that speak MCP (`python app.py --mcp`): sample digits, denoise digits,
reconstruct a picture, judge a picture, write text.

Gradio's MCP server makes a tool of every named endpoint, its schema from the input components
and its description from the function's docstring (the Args: lines describe the parameters). The
tabs' endpoints carry browser state and many widgets, so an MCP server lists only the functions
here (`keep_only_tools`); each runs in the lane of its tab, with the same checks as the tab.
"""

import warnings

import gradio as gr
import torch

from genlab import images, limits
from genlab.data import preprocess
from genlab.eval import metrics
from genlab.models import base, sampling
from genlab.models.diffusion import schedulers, viewer
from genlab.models.text import generation
from genlab.params import RequestError, check_value
from genlab.registry import TEXT_FAMILIES
from genlab.ui.digit_input import ReferenceDigits
from genlab.ui.handlers import handler
from genlab.ui.tabs import gan as gan_tab
from genlab.ui.tabs import vae as vae_tab

TOOLS = ("sample_digits", "denoise_digits", "reconstruct_digit", "judge_digit", "generate_text")
MCP_PATH = "gradio_api/mcp/"  # the streamable-HTTP endpoint under the app's URL
DENOISE_STEPS = 20  # DPM-Solver++ SDE, the tab's default solver, at its own guidance


def build(shared) -> None:
    """Register the tools' endpoints inside the current gr.Blocks (hidden components carry their schema)."""
    store, test = shared.store, ReferenceDigits()

    def sample_digits(digit: str = "mix", n: int = 16, seed: int = 0):
        """Draw handwritten digits (28x28, MNIST style) from the pretrained class-conditional GAN.

        Args:
            digit: "0" to "9" for that digit, or "mix" for 0 to 9 in turn.
            n: how many digits, 1 to 100.
            seed: the same seed gives the same digits.
        Returns:
            A PNG grid of the digits, upscaled 3x, ten columns for a mix.
        """
        return gan_tab.sample_grid(store, digit, n, seed, truncation=0)  # the GAN tab's grid, without truncation

    def denoise_digits(digit: str = "mix", n: int = 8, seed: int = 0):
        """Draw digits with the pretrained diffusion model (a class-conditional UNet): 20 steps of
        DPM-Solver++ SDE from pure noise, a few seconds on a CPU.

        Args:
            digit: "0" to "9" for that digit, "mix" for 0 to 9 in turn, or "none" for no label.
            n: how many digits, 1 to 64.
            seed: the same seed gives the same digits.
        Returns:
            A PNG grid of the digits, upscaled 3x.
        """
        default = schedulers.SCHEDULERS[schedulers.DEFAULT_SCHEDULER]
        request = viewer.diffusion_request(digit, n, seed, schedulers.DEFAULT_SCHEDULER, DENOISE_STEPS,
                                           default.default_guidance)
        limits.check_denoising(request.n, request.settings.steps, viewer.branches(request), shared.limits)
        model = store.get("diffusion")
        generator = torch.Generator().manual_seed(request.seed)
        with base.evaluating(model):
            samples = model.sample(request.n, generator=generator, labels=viewer.labels(request, model.null_label),
                                   settings=request.settings).cpu()
        return images.grid(samples, columns=viewer.columns(request))

    def reconstruct_digit(image: str):
        """Pass a picture of one handwritten digit through the pretrained VAE (encode to a small code,
        decode back). The picture is cropped, centred and scaled like MNIST first.

        Args:
            image: a picture of one digit (PNG, JPEG...; dark ink on light paper or light on dark).
        Returns:
            The original, the reconstruction and an error map (red: pixels it got wrong) side by side.
        """
        return vae_tab.reconstruction(store, test, "upload", upload=image)[0]

    def judge_digit(image: str) -> dict:
        """Ask the judge (a classifier with 99.6% test accuracy on MNIST) which digit a picture shows.
        The picture is cropped, centred and scaled like MNIST first.

        Args:
            image: a picture of one digit (PNG, JPEG...; dark ink on light paper or light on dark).
        Returns:
            The digit the judge sees, its probability, and the probability of every digit.
        """
        if not image:
            raise RequestError("give a picture of a digit")
        digit = preprocess.mnist_like(image)  # (28, 28) uint8, size checked before decoding
        pixels = torch.from_numpy(digit).float().div(127.5).sub(1)[None, None]  # (1, 1, 28, 28) in [-1, 1]
        probs = metrics.judge_outputs(store.get("judge"), pixels)["probs"][0]
        best = int(probs.argmax())
        return {"digit": best, "probability": round(float(probs[best]), 4),
                "probabilities": {str(k): round(float(p), 4) for k, p in enumerate(probs)}}

    def generate_text(prompt: str = "ROMEO:", n_chars: int = 300, temperature: float = 0.8, seed: int = 0,
                      family: str = "gpt") -> str:
        """Continue a prompt in the style of Shakespeare's plays with a character-level language model
        trained on tiny-shakespeare.

        Args:
            prompt: the text to continue (characters of tiny-shakespeare's alphabet; empty: a new line).
            n_chars: how many characters to write, 1 to 2000.
            temperature: 0 always takes the likeliest character; 0.8 is lively; above 1.2 words fall apart.
            seed: the same seed gives the same text.
            family: "gpt" (a small transformer) or "lstm".
        Returns:
            The prompt followed by the new characters.
        """
        family = check_value("model family", family, str, choices=TEXT_FAMILIES)
        request = generation.text_request(prompt, n_chars, temperature, 0, 1.0, seed)
        return request.prompt + generation.generate_text(store.get(family), request)

    with gr.Group(visible=False):  # the tools' parameters and results, never shown
        digit = gr.Dropdown(sampling.DIGIT_CHOICES, value="mix", label="digit")
        digit_or_none = gr.Dropdown(viewer.DIGIT_CHOICES, value="mix", label="digit")
        n = gr.Slider(1, sampling.MAX_SAMPLES, value=16, step=1, label="n")
        n_denoised = gr.Slider(1, viewer.MAX_SAMPLES, value=8, step=1, label="n")
        seed = gr.Number(0, precision=0, label="seed")
        picture = gr.Image(type="filepath", label="image")
        grid = gr.Image(format="png", label="digits")
        triptych = gr.Image(format="png", label="original | reconstruction | error")
        verdict = gr.JSON(label="verdict")
        prompt = gr.Textbox("ROMEO:", label="prompt")
        n_chars = gr.Slider(1, generation.MAX_NEW_CHARS, value=300, step=1, label="n_chars")
        temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="temperature")
        family = gr.Dropdown(list(TEXT_FAMILIES), value="gpt", label="family")
        text = gr.Textbox(label="text")
    quick, slow, writing = (store.lane(name) for name in ("quick", "denoising", "text"))
    events = [(sample_digits, [digit, n, seed], grid, quick),
              (denoise_digits, [digit_or_none, n_denoised, seed], grid, slow),
              (reconstruct_digit, [picture], triptych, quick),
              (judge_digit, [picture], verdict, quick),
              (generate_text, [prompt, n_chars, temperature, seed, family], text, writing)]
    # one output each: Gradio 6.31's MCP server sends a queued tool's several outputs as one list's text
    for fn, inputs, outputs, lane in events:
        gr.on([], handler(fn), inputs, outputs, api_name=fn.__name__, **lane)


def launch_quietly(launch, **options):
    """`launch(**options)` without Gradio's warning that some tool has a gr.State input: its MCP
    server looks at every endpoint before keep_only_tools drops the tabs' ones, which hold the State."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
        return launch(**options)


def keep_only_tools(demo: gr.Blocks) -> None:
    """After launch(mcp_server=True): the MCP server lists and calls only TOOLS, not the tabs' endpoints."""
    server = demo.mcp_server_obj
    if server is None:
        raise RuntimeError("the MCP server is not running: launch with mcp_server=True")
    server.tool_to_endpoint = {tool: endpoint for tool, endpoint in server.tool_to_endpoint.items()
                               if endpoint.lstrip("/") in TOOLS}
    missing = set(TOOLS) - {endpoint.lstrip("/") for endpoint in server.tool_to_endpoint.values()}
    if missing:
        raise RuntimeError(f"MCP tools missing from the app: {', '.join(sorted(missing))} (build_app(mcp=True))")
