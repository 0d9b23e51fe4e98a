"""Frames per second of the Playground's Play stream, per model, on this machine's CPU.

A frame is what one yield of `playground_train` costs the server: `steps_per_frame` training steps
through the one loop, the two planes and the chart drawn, KL/JS measured, and the three pictures
encoded as PNG (as Gradio writes each yielded image). The MAX_FPS cap is lifted, so this is the
rate the server could send. Prints the median over the frames and the slowest tenth.

    python benchmarks/playground_speed.py [--frames 60] [--steps-per-frame 5] [--threads 2]
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from genlab.models.playground import PLAYGROUND_FAMILIES  # noqa: E402
from genlab.ui import playground_api as api  # noqa: E402


def png(picture) -> int:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.tell()


def frame_times(model: str, frames: int, steps_per_frame: int, data: str) -> list:
    slot = {}
    api.playground_view(slot, model, data)
    slot["run"].advance(1)  # the first step builds the optimisers (and imports torch.optim's helpers once)
    stream = api.playground_train(slot, model, data, {"steps_per_frame": steps_per_frame})
    times, last = [], time.perf_counter()
    try:
        for _ in range(frames):
            main, side, chart, _ = next(stream)
            for picture in (main, side, chart):
                png(picture)
            now = time.perf_counter()
            times.append(now - last)
            last = now
    finally:
        stream.close()
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--steps-per-frame", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the process (the playground "
                                                                 "itself steps on one)")
    parser.add_argument("--data", default="ring")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    api.MAX_FPS = float("inf")  # measure what the server can do, not the cap
    print(f"{args.frames} frames of {args.steps_per_frame} steps on {args.data}; torch threads {args.threads}, "
          f"CPU cores {os.cpu_count()}")
    print(f"{'model':<16}{'fps (median)':>14}{'ms/frame':>10}{'slowest 10% ms':>16}{'steps/s':>10}")
    for name, family in PLAYGROUND_FAMILIES.items():
        times = frame_times(name, args.frames, args.steps_per_frame, args.data)
        median = statistics.median(times)
        slow = sorted(times)[int(0.9 * len(times))]
        print(f"{family.title:<16}{1 / median:>14.1f}{median * 1000:>10.0f}{slow * 1000:>16.0f}"
              f"{args.steps_per_frame / median:>10.0f}")


if __name__ == "__main__":
    main()
