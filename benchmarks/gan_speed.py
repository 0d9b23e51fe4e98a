"""GAN tab speed: the 64-digit grid handler vs the bare generator forward (and that forward on the
activation layout it had before channels-last), PNG coding, and app start-up.

Usage: python benchmarks/gan_speed.py [--repeats 50] [--starts 3]
Prints one table; every figure is a median measured in this run, so ratios are fair even
when the machine is busy. "Ready" is the page answering; the first grid is what someone who
clicks the moment the page answers waits, from `python app.py`. Its floor is what no design of
this app can skip: a bare Gradio app's start plus, in a fresh process, `import torch`, loading
the GAN and one 64-digit forward.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py serves; read when torch loads below

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import images  # noqa: E402
from genlab.models import sampling  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402
from genlab.ui.tabs import gan as gan_tab  # noqa: E402

from timing import median_ms, served  # noqa: E402

BARE_APP = """
import gradio as gr
with gr.Blocks() as demo:
    gr.Button("hi")
demo.launch(server_name="127.0.0.1")
"""


# the floor's model part, run in a fresh process; it prints its own seconds (the interpreter's start is
# in the bare app's figure already)
TORCH_LOAD_FORWARD = """
import time
began = time.perf_counter()
import torch
from genlab import weights
from genlab.models import sampling
from genlab.registry import get_family
gan = weights.load(get_family("gan"), device="cpu")
sampling.sample_digits(gan, sampling.digit_request("mix", 64, 0))
print(time.perf_counter() - began)
"""

# sample_digits's median in a fresh process, whose OpenMP runtime reads OMP_WAIT_POLICY as it loads
FORWARD = """
import sys, torch
sys.path.insert(0, "benchmarks")
from genlab import weights
from genlab.models import sampling
from genlab.registry import get_family
from timing import median_ms
gan = weights.load(get_family("gan"), device="cpu")
request = sampling.digit_request("mix", 64, 0)
print(median_ms(lambda: sampling.sample_digits(gan, request), int(sys.argv[1])))
"""

# the generator's forward on channels-last activations (ConvGenerator's) or on contiguous (NCHW) ones
LAYOUT = """
import sys, torch
sys.path.insert(0, "benchmarks")
from genlab import weights
from genlab.registry import get_family
from timing import median_ms
gan = weights.load(get_family("gan"), device="cpu")
g, layout = gan.generator_ema, {"channels-last": torch.channels_last, "contiguous": torch.contiguous_format}[sys.argv[2]]
z, labels = gan.latents(64, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 10
def forward():
    with torch.inference_mode():
        h = g.project(torch.cat([z, g.embed(labels)], dim=1)).view(-1, 4 * g.width, 7, 7)
        g.net(h.contiguous(memory_format=layout))
print(median_ms(forward, int(sys.argv[1])))
"""
LAYOUTS = ("channels-last", "contiguous")


def fresh_process(script: str, *args, env=None) -> float:
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def png_ms(picture, repeats: int, **options) -> tuple:
    """(median ms, bytes) of Pillow's PNG coder with `options`; no options: Pillow's (and Gradio's) default."""
    def encode():
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="PNG", **options)
        return buffer
    return median_ms(encode, repeats), len(encode().getvalue())


def seconds_to_ready(argv) -> float:
    with served(argv, ROOT) as (_, seconds, _process):
        return seconds


def seconds_to_first_grid() -> float:
    """`python app.py` start to its first 64-digit GAN grid, asked for the moment the page answers."""
    from gradio_client import Client

    began = time.perf_counter()
    with served([sys.executable, "app.py"], ROOT) as (url, _, _process):
        Client(url, verbose=False).predict("mix", 64, 0, 0, api_name="/gan_sample")
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()

    store = ModelStore("cpu")
    gan = store.get("gan")
    request = sampling.digit_request("mix", 64, 0)
    z = gan.latents(64, generator=torch.Generator().manual_seed(0))
    labels = sampling.labels_for(64, None)

    def forward():
        with torch.inference_mode():
            gan.generator_ema(z, labels)

    handler = median_ms(lambda: gan_tab.sample_grid(store, "mix", 64, 0, 0), args.repeats)
    bare = median_ms(forward, args.repeats)
    layouts = {name: [] for name in LAYOUTS}  # each in its own processes, alternating: in one process
    for _ in range(3):  # the second layout's timings depend on what the first left behind
        for name in LAYOUTS:
            layouts[name].append(fresh_process(LAYOUT, str(args.repeats), name))
    layouts = {name: statistics.median(values) for name, values in layouts.items()}
    verdicts = median_ms(lambda: gan_tab.judge_verdicts(store, "mix", 64, 0, 0), max(5, args.repeats // 5))
    waits = {policy: fresh_process(FORWARD, str(args.repeats), env={"OMP_WAIT_POLICY": policy})
             for policy in ("ACTIVE", "PASSIVE")}
    grid = gan_tab.sample_grid(store, "mix", 64, 0, 0)
    annotated = np.asarray(gan_tab.judge_verdicts(store, "mix", 64, 0, 0)[0])
    pngs = {name: (png_ms(picture, args.repeats), median_ms(lambda p=picture: images.png_bytes(p), args.repeats),
                   len(images.png_bytes(picture)))
            for name, picture in (("64-digit grid (grey)", grid), ("judged grid (colour)", annotated))}

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(BARE_APP)
    ours, plain, first, model_part = [], [], [], []
    for _ in range(args.starts):  # interleaved, so drift hits both alike
        ours.append(seconds_to_ready([sys.executable, "app.py"]))
        plain.append(seconds_to_ready([sys.executable, f.name]))
        model_part.append(fresh_process(TORCH_LOAD_FORWARD))
        first.append(seconds_to_first_grid())
    os.unlink(f.name)
    start, bare_start, first_grid = statistics.median(ours), statistics.median(plain), statistics.median(first)
    floor = bare_start + statistics.median(model_part)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, request {request}")
    print("| measurement | median | ratio | target |")
    print("|---|---|---|---|")
    print(f"| GAN tab grid handler, 64 digits | {handler:.2f} ms | {handler / bare:.2f}x forward | <= 1.1x |")
    print(f"| bare generator forward, 64 digits | {bare:.2f} ms | 1.00x | |")
    for name, ms in layouts.items():
        print(f"| generator forward on {name} activations (fresh processes) | {ms:.2f} ms "
              f"| {ms / layouts['channels-last']:.2f}x channels-last | |")
    print(f"| judge verdicts handler, 64 digits (chained after the grid) | {verdicts:.2f} ms | | |")
    for policy, ms in waits.items():
        print(f"| 64-digit sample_digits in a fresh process, OMP_WAIT_POLICY={policy} | {ms:.2f} ms "
              f"| {ms / waits['ACTIVE']:.2f}x ACTIVE | |")
    for name, ((default_ms, default_bytes), fast_ms, fast_bytes) in pngs.items():
        print(f"| PNG of the {name}, Pillow's default (Gradio's) | {default_ms:.2f} ms, {default_bytes} B | 1.00x | |")
        print(f"| PNG of the {name}, images.png_bytes | {fast_ms:.2f} ms, {fast_bytes} B "
              f"| {fast_ms / default_ms:.2f}x time, {fast_bytes / default_bytes:.2f}x size | |")
    print(f"| `python app.py` start to ready | {start:.2f} s | {start / bare_start:.2f}x bare app | <= 1.5x |")
    print(f"| bare one-button Gradio app start to ready | {bare_start:.2f} s | 1.00x | |")
    print(f"| `import torch`, load the GAN, one 64-digit forward (fresh process) | "
          f"{statistics.median(model_part):.2f} s | | |")
    print(f"| floor: bare app start + the line above | {floor:.2f} s | 1.00x | |")
    print(f"| `python app.py` start to its first GAN grid (asked at ready) | {first_grid:.2f} s "
          f"| {first_grid / floor:.2f}x floor | <= 1.05x |")


if __name__ == "__main__":
    main()
