"""Score weights folders with the family's own evaluation and print one table.

Usage: python recipes/score_candidates.py [--device cuda] [--n 10000] [--out scores.json] FOLDER...
The family of each folder is read from its training.json command ("python -m genlab train <family>").
Used to pick among candidate recipes; the shipped figures come from `python -m genlab eval <family>`.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import devices, weights  # noqa: E402
from genlab.eval import metrics
from genlab.registry import FAMILIES  # noqa: E402


def family_of(run: dict):
    words = run["command"].split()  # python -m genlab [--device D] train <family> ...
    return FAMILIES[words[words.index("train") + 1]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--device", default="")
    parser.add_argument("--n", type=int, default=10000, help="samples per image model")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = devices.resolve(args.device)
    judge = weights.load(FAMILIES["judge"], device=device)
    scores = {}
    for folder in args.folders:
        began = time.perf_counter()
        run = weights.read_json(folder / "training.json") if (folder / "training.json").is_file() else {}
        try:
            family = family_of(run)
            model = weights.load(family, folder, device=device)
            summary = metrics.evaluate(family, model, judge, n=args.n, progress=lambda m: None)["summary"]
        except Exception as err:  # one broken candidate must not hide the others' scores
            summary = {"error": f"{type(err).__name__}: {err}"}
        summary.update(steps=run.get("steps"), wall_s=run.get("wall_time_s"),
                       score_s=round(time.perf_counter() - began, 1))
        for shipped_run_fact in ("training tokens", "training wall time (min)"):  # read from weights/<family>
            summary.pop(shipped_run_fact, None)
        scores[folder.name] = summary
        print(folder.name, json.dumps(summary), flush=True)
        if args.out:
            args.out.write_text(json.dumps(scores, indent=2) + "\n")


if __name__ == "__main__":
    main()
