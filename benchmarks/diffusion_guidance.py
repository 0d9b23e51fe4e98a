"""Diffusion sampler settings against quality: judge FID (vs the 10,000 MNIST test digits) and class
fidelity for each scheduler:steps:guidance given, on the same seeded samples.

Usage: python benchmarks/diffusion_guidance.py [--n 1000] dpm++:10:1 dpm++:10:2 ddim:25:2 ...
With n below 10,000 the FIDs are biased upwards: compare them with each other, not with metrics.json.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import weights  # noqa: E402
from genlab.data import mnist
from genlab.eval import metrics
from genlab.models.diffusion import schedulers
from genlab.models.sampling import labels_for  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000, help="samples per setting (a multiple of 10)")
    parser.add_argument("settings", nargs="+", help="scheduler:steps:guidance, e.g. dpm++:10:2")
    args = parser.parse_args()
    judge, model = weights.load(FAMILIES["judge"]), weights.load(FAMILIES["diffusion"])
    test = mnist.load_digits("test")
    real = metrics.judge_arrays(judge, mnist.to_tensor(test.images))["features"]
    print(f"{args.n} samples per setting vs {test.source}\n")
    print("| setting | judge FID | class fidelity | inception score | seconds |\n|---|---|---|---|---|")
    for spec in args.settings:
        name, steps, guidance = spec.split(":")
        settings = schedulers.sampler(name, int(steps), float(guidance))
        labels, generator = labels_for(args.n, None), torch.Generator().manual_seed(0)
        began = time.perf_counter()
        with torch.inference_mode():
            samples = torch.cat([model.sample(len(chunk), generator=generator, labels=chunk, settings=settings)
                                 for chunk in labels.split(metrics.BATCH)])
        seconds = time.perf_counter() - began
        out = metrics.judge_arrays(judge, samples)
        fid = metrics.frechet_distance(out["features"], real)
        fidelity = float((out["probs"].argmax(1) == labels.numpy()).mean())
        print(f"| {spec} | {fid:.1f} | {fidelity:.4f} | {metrics.inception_score(out['probs']):.3f} | {seconds:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
