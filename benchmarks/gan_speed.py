"""GAN tab speed: the 64-digit grid handler vs the bare generator forward, and app start-up.

Usage: python benchmarks/gan_speed.py [--repeats 50] [--starts 3]
Prints one table; every figure is a median measured in this run, so ratios are fair even
when the machine is busy. "Ready" is the page answering; the first grid is what someone who
clicks the moment the page answers waits, from `python app.py`.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    verdicts = median_ms(lambda: gan_tab.judge_verdicts(store, "mix", 64, 0, 0), max(5, args.repeats // 5))

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(BARE_APP)
    ours, plain, first = [], [], []
    for _ in range(args.starts):  # interleaved, so drift hits both alike
        ours.append(seconds_to_ready([sys.executable, "app.py"]))
        plain.append(seconds_to_ready([sys.executable, f.name]))
        first.append(seconds_to_first_grid())
    os.unlink(f.name)
    start, bare_start, first_grid = statistics.median(ours), statistics.median(plain), statistics.median(first)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, request {request}")
    print("| measurement | median | ratio | target |")
    print("|---|---|---|---|")
    print(f"| GAN tab grid handler, 64 digits | {handler:.2f} ms | {handler / bare:.2f}x forward | <= 1.5x |")
    print(f"| bare generator forward, 64 digits | {bare:.2f} ms | 1.00x | |")
    print(f"| judge verdicts handler, 64 digits (chained after the grid) | {verdicts:.2f} ms | | |")
    print(f"| `python app.py` start to ready | {start:.2f} s | {start / bare_start:.2f}x bare app | <= 1.5x |")
    print(f"| bare one-button Gradio app start to ready | {bare_start:.2f} s | 1.00x | |")
    print(f"| `python app.py` start to its first GAN grid (asked at ready) | {first_grid:.2f} s "
          f"| {first_grid / bare_start:.2f}x bare app | |")


if __name__ == "__main__":
    main()
