"""The GAN and a judge trained on data that is not MNIST, scored the way shipped models are.

Usage: python benchmarks/own_data.py [--data fashion-mnist] [--gan-steps 1500] [--judge-steps 300] [--n 2000]
Uses Fashion-MNIST when its files are found (GENLAB_DATA_DIR/fashion-mnist or the cache; no download),
else the drawn shapes that genlab makes itself. Both runs go through the CLI (the one training loop,
run folders with their training.json); the judge then scores the GAN against that data's own
held-out floor (real train vs real test features), so "FID / floor" means what it means for MNIST.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import weights  # noqa: E402
from genlab.cli.evaluate import data_for  # noqa: E402
from genlab.cli.main import main  # noqa: E402
from genlab.data import image_sets  # noqa: E402
from genlab.data.download import DataError  # noqa: E402
from genlab.eval import metrics  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402


def available(name: str) -> bool:
    try:
        image_sets.load_named(name, download=False)
        return True
    except DataError:
        return False


def train(family: str, data: str, steps: int, out: Path, extra=()) -> float:
    """Train (unless `out` already holds a finished run: --runs) and return the run's recorded wall time."""
    if not (out / "model.safetensors").is_file():
        code = main(["train", family, "--data", data, "--steps", str(steps), "--save-every", "0", "--log-every",
                     str(max(1, steps // 5)), "--out", str(out), "--checkpoint", str(out) + "-ckpt", *extra])
        if code != 0:
            raise SystemExit(f"training {family} on {data} failed ({code})")
    return weights.read_json(out / "training.json")["wall_time_s"]


def run(args) -> None:
    data = args.data if available(args.data) else "shapes"
    root = Path(args.runs) if args.runs else Path(tempfile.mkdtemp(prefix="genlab-own-data-"))
    judge_s = train("judge", data, args.judge_steps, root / "judge", ["--batch-size", "128"])
    gan_s = train("gan", data, args.gan_steps, root / "gan", ["--batch-size", "64", "--ema-start", "200",
                                                             "--ema-decay", "0.99"])
    splits = data_for(root / "gan", None)
    judge = weights.load(FAMILIES["judge"], root / "judge")
    gan = weights.load(FAMILIES["gan"], root / "gan")
    accuracy = metrics.evaluate(FAMILIES["judge"], judge, None, n=args.n, data=splits, progress=lambda m: None)["summary"]
    n = args.n - args.n % splits.train.num_classes
    summary = metrics.evaluate(FAMILIES["gan"], gan, judge, n=n, data=splits, progress=lambda m: None)["summary"]
    rows = [("data", f"{data} ({splits.train.num_classes} classes, {len(splits.train)} train pictures)"),
            ("judge steps / train time", f"{args.judge_steps} / {judge_s:.0f} s"),
            ("judge held-out accuracy", accuracy.get("test accuracy")),
            ("GAN steps / train time", f"{args.gan_steps} / {gan_s:.0f} s"),
            ("samples scored", n)]
    rows += [(k, summary[k]) for k in ("FID (judge)", "FID floor", "FID / floor", "class fidelity") if k in summary]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(json.dumps({"runs": str(root)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="fashion-mnist", help="a set of genlab.data.image_sets (if present)")
    parser.add_argument("--gan-steps", type=int, default=1500)
    parser.add_argument("--judge-steps", type=int, default=300)
    parser.add_argument("--runs", help="a folder from an earlier run of this script: score its runs again")
    parser.add_argument("--n", type=int, default=2000, help="samples scored (rounded down to the class count)")
    run(parser.parse_args())
