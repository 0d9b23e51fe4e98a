"""Diffusion sampling speed: 16 digits through the tab's streaming path, the library call, and a bare
diffusers denoising loop over the same UNet and scheduler (same guidance), in one run.

Usage: python benchmarks/diffusion_speed.py [--repeats 5]
The three paths are timed in turn inside each repeat, so machine load hits them alike; the table
shows medians and each path's ratio to the bare loop (target for the tab: <= 1.1x).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import limits  # noqa: E402
from genlab.models.diffusion import schedulers
from genlab.ui.outputs import OutputFiles  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402
from genlab.ui.tabs import diffusion as diffusion_tab  # noqa: E402

N = 16
CASES = [("ddim", 25), ("dpm++", 10), ("sde-dpm++", 20)]  # the two, and the default sampler


def bare_loop(model, scheduler_name: str, steps: int, guidance: float, seed: int) -> torch.Tensor:
    """What a diffusers user writes by hand: scheduler, noise, and a guided UNet call per step."""
    scheduler = schedulers.make_scheduler(model.scheduler_config(), scheduler_name)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(N) % 10
    both = torch.cat([labels, torch.full_like(labels, model.null_label)])
    x = torch.randn((N, 1, 28, 28), generator=generator)
    with torch.inference_mode():
        for t in scheduler.timesteps:
            cond, uncond = model.unet_ema(torch.cat([x, x]), t, class_labels=both).sample.chunk(2)
            x = scheduler.step(uncond + guidance * (cond - uncond), t, x, generator=generator).prev_sample
    return x


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    store = ModelStore("cpu")
    model = store.get("diffusion")
    outputs = OutputFiles()
    guidance = schedulers.SamplerSettings().guidance
    rows = []
    for name, steps in CASES:
        settings = schedulers.SamplerSettings(name, steps, guidance)
        paths = {
            "bare diffusers loop": lambda: bare_loop(model, name, steps, guidance, 0),
            "library (model.sample)": lambda: model.sample(N, generator=torch.Generator().manual_seed(0),
                                                           settings=settings),
            "tab (streaming, kept frames, GIF)": lambda: list(diffusion_tab.denoise_stream(
                store, outputs, limits.LOCAL, "mix", N, 0, name, steps, guidance)),
        }
        # the loops agree: same digits from the bare loop and the library
        torch.testing.assert_close(paths["bare diffusers loop"]().clamp(-1, 1), paths["library (model.sample)"]())
        times = {label: [] for label in paths}
        for _ in range(args.repeats):
            for label, fn in paths.items():
                began = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - began)
        bare = statistics.median(times["bare diffusers loop"])
        for label, values in times.items():
            median = statistics.median(values)
            rows.append((f"{name} {steps}", label, median, median / bare))
    print(f"{N} digits, guidance {guidance:g} (two UNet branches per step), torch threads "
          f"{torch.get_num_threads()}, medians of {args.repeats}\n")
    print("| sampler | path | seconds | vs bare loop |\n|---|---|---|---|")
    for case, label, seconds, ratio in rows:
        print(f"| {case} | {label} | {seconds:.3f} | {ratio:.3f}x |")


if __name__ == "__main__":
    main()
