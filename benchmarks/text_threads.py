"""Text generation with each one-character step on one torch thread (what genlab.models.text.generation
does, genlab.devices.single_threaded) against torch's default thread count, on a quiet CPU and beside
another process that keeps every core busy with torch work (as a GAN or diffusion request would).

Usage: python benchmarks/text_threads.py [--repeats 4] [--n-chars 300]
Prints chars/s, medians of interleaved rounds in one process, and the ratio one thread / default.
"""

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import weights  # noqa: E402
from genlab.models.text import generation  # noqa: E402
from genlab.registry import FAMILIES, TEXT_FAMILIES  # noqa: E402

# a torch process that keeps the cores busy: convolutions over a batch, with torch's default threads
BUSY = "import torch\nx = torch.randn(256, 1, 28, 28)\nconv = torch.nn.Conv2d(1, 64, 3, padding=1)\nwhile True: conv(x)"
MODES = {"one thread": generation.single_threaded, "default threads": contextlib.nullcontext}


def chars_per_second(models, request, repeats: int) -> dict:
    times = {(name, mode): [] for name in models for mode in MODES}
    try:
        for _ in range(repeats):
            for name, model in models.items():
                for mode, context in MODES.items():
                    generation.single_threaded = context  # what generate() wraps each step in
                    began = time.perf_counter()
                    generation.generate_text(model, request)
                    times[name, mode].append(time.perf_counter() - began)
    finally:
        generation.single_threaded = MODES["one thread"]
    return {key: request.n_chars / statistics.median(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--n-chars", type=int, default=300)
    args = parser.parse_args()
    models = {name: weights.load(FAMILIES[name]) for name in TEXT_FAMILIES}
    request = generation.text_request("ROMEO:", args.n_chars, 0.8, seed=0)
    generation.generate_text(models[TEXT_FAMILIES[0]], request)  # warm-up
    results = {"quiet": chars_per_second(models, request, args.repeats)}
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(3)  # past its imports
        results["beside a busy torch process"] = chars_per_second(models, request, args.repeats)
    finally:
        busy.kill()
    print(f"torch {torch.__version__}, default {torch.get_num_threads()} threads, {args.n_chars} characters, "
          f"medians of {args.repeats} interleaved rounds")
    print("| machine | family | one thread | default threads | one / default |")
    print("|---|---|---|---|---|")
    for machine, speeds in results.items():
        for name in models:
            one, default = speeds[name, "one thread"], speeds[name, "default threads"]
            print(f"| {machine} | {name} | {one:.0f} chars/s | {default:.0f} chars/s | {one / default:.2f}x |")


if __name__ == "__main__":
    main()
