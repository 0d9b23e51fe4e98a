"""How long each family's quick preset takes in the Train tab, start to last frame, on this machine.

Usage: python benchmarks/train_presets.py [--families gan gpt] [--write]
Each run goes through the Train tab's own stream_run (data loading, model building, previews,
held-out losses and checkpoints included) with the app's frame and preview throttles. Set
GENLAB_DATA_DIR (full MNIST) and GENLAB_TEXT_PATH (tiny-shakespeare) to time what users run.
`--write` stores the figures in genlab/ui/train_presets.json, which the tab's preset hint reads.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab.data import corpus, mnist  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402
from genlab.ui import train_presets  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402
from genlab.ui.train_run import TrainContext, new_session, stream_run  # noqa: E402


def time_quick_run(family, runs_root: Path) -> dict:
    """Seconds from pressing Start to the last frame of the quick preset, and what it trained on."""
    fingerprint = train_presets.quick_fingerprint(family)
    ctx = TrainContext(ModelStore("cpu", runs_root=runs_root))
    began = time.perf_counter()
    frames = list(stream_run(ctx, family.name, fingerprint["recipe"], fingerprint["config"], new_session()))
    seconds = time.perf_counter() - began
    load = os.getloadavg()[0]  # other work on the machine slows the run: the figure is kept beside it
    last = frames[-1]
    if last.step != fingerprint["recipe"]["steps"]:
        raise SystemExit(f"{family.name}: the run stopped at step {last.step}")
    return {"seconds": round(seconds, 1), "steps": last.step, "cores": os.cpu_count(),
            "threads": torch.get_num_threads(),
            "load": round(load, 1), "preset": fingerprint}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--write", action="store_true", help=f"store the figures in {train_presets.MEASURED_FILE.name}")
    args = parser.parse_args()
    if corpus.find_shakespeare() is None and any(FAMILIES[n].data == "text" for n in args.families):
        raise SystemExit("tiny-shakespeare not found: set GENLAB_TEXT_PATH to its input.txt")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads on {os.cpu_count()} cores, "
          f"images: {mnist.load_digits('train').source}\n")
    print("| family | steps | batch | seconds | steps/s | load (1 min) | the tab says |\n|---|---|---|---|---|---|---|")
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.families:
            family = FAMILIES[name]
            entry = time_quick_run(family, Path(scratch) / name)
            results[name] = entry
            print(f"| {name} | {entry['steps']} | {entry['preset']['recipe']['batch_size']} | {entry['seconds']:.0f} "
                  f"| {entry['steps'] / entry['seconds']:.2f} | {entry['load']:.1f} "
                  f"| {train_presets.about(entry['seconds'])} |", flush=True)
    if args.write:
        path = train_presets.MEASURED_FILE
        kept = json.loads(path.read_text(encoding="utf-8"))["families"] if path.exists() else {}
        record = {"measured": datetime.date.today().isoformat(), "by": "benchmarks/train_presets.py",
                  "families": {**kept, **results}}
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
