"""The article's fully connected GAN against the shipped DCGAN, trained alike, scored by the judge.

Usage: GENLAB_DATA_DIR=../shared/data/mnist python benchmarks/article_gan.py [--steps 1500] [--batch-size 64]
       [--samples 2000] [--threads 1] [--variants article dcgan ...] [--grid DIR]

Every variant trains from seed 0 through the one training loop (genlab.train.loop.train) for the same
steps and batch size, with the article's optimiser (Adam 2e-4, beta1 0.5) and the same weight
average, then is scored by genlab.eval.metrics.evaluate with the shipped judge (FID on judge
features, FID / floor, class fidelity). `--grid DIR` also writes a 10x10 sample grid per variant.
`--threads` sets torch's CPU threads: on a machine shared with other work, one thread avoids the
threads waiting on each other, which can slow small networks many times over.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import images, weights  # noqa: E402
from genlab.data import mnist  # noqa: E402
from genlab.eval.metrics import evaluate  # noqa: E402
from genlab.models.base import TrainConfig, evaluating  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402
from genlab.train.loop import new_model, train  # noqa: E402

GAN = FAMILIES["gan"]
# name -> GANConfig fields that differ from the default (the shipped DCGAN)
VARIANTS = {
    "article": {"architecture": "dense", "objective": "article", "latent": "uniform"},
    "dense + non-saturating": {"architecture": "dense", "objective": "non-saturating", "latent": "uniform"},
    "dense + wasserstein (sign fixed, no sigmoid)": {"architecture": "dense", "objective": "wasserstein",
                                                     "latent": "uniform"},
    "dcgan": {},
}
# a short run's weight average: the quick preset's, for every variant alike
AVERAGE = dict(GAN.quick_config)


def train_variant(name: str, steps: int, batch_size: int, data) -> tuple:
    """(trained model, last logged losses, seconds)"""
    recipe = TrainConfig(steps=steps, batch_size=batch_size, lr=2e-4, beta1=0.5, beta2=0.999, seed=0)
    config = GAN.config_cls(**{**AVERAGE, **VARIANTS[name]})
    model = new_model(GAN, config, recipe, "cpu")
    began = time.perf_counter()
    last = None
    for last in train(GAN, model, data, recipe):
        pass
    model.finalize()
    return model, last.losses, time.perf_counter() - began


def write_grid(model, path: Path) -> None:
    with evaluating(model):
        digits = model.sample(100, generator=torch.Generator().manual_seed(0))
    images.grid_image(digits, columns=10).save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=2000, help="digits each variant is scored on")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--grid", type=Path, help="folder for a 10x10 sample grid per variant")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = mnist.load_digits("train")
    judge = weights.load(FAMILIES["judge"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads on {os.cpu_count()} cores, "
          f"data: {data.source}; {args.steps} steps of {args.batch_size}, Adam 2e-4 beta1 0.5, "
          f"average {AVERAGE}; scored on {args.samples} samples\n")
    print("| variant | FID (judge) | FID / floor | class fidelity | D(real) | D(fake) | train s |\n"
          "|---|---|---|---|---|---|---|")
    for name in args.variants:
        model, losses, seconds = train_variant(name, args.steps, args.batch_size, data)
        summary = evaluate(GAN, model, judge, n=args.samples, progress=lambda _: None)["summary"]
        print(f"| {name} | {summary['FID (judge)']:.2f} | {summary['FID / floor']:.1f} "
              f"| {summary['class fidelity']:.3f} | {losses['d_real']:.3f} | {losses['d_fake']:.3f} "
              f"| {seconds:.0f} |", flush=True)
        if args.grid:
            args.grid.mkdir(parents=True, exist_ok=True)
            write_grid(model, args.grid / f"{name.split(' (')[0].replace(' + ', '_').replace(' ', '_')}.png")


if __name__ == "__main__":
    main()
