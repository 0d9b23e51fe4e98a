"""Peak memory of one training step: genlab.memory_estimate's estimate next to a measurement.

Usage: python benchmarks/train_memory.py [--families gpt lstm] [--steps 2]

For every family, from its test-sized config to the largest the public limits let through (a
config near genlab.limits.PUBLIC's parameter cap, at the largest batch its memory budget allows),
each case trains in a fresh subprocess. The measurement is the resident-set high-water mark
(Linux VmHWM, reset through /proc/self/clear_refs before each step) minus the resident set just
before the model is built, the highest over `--steps` steps (the first step allocates the
optimiser's moments, later ones hold them). Before that baseline the child trains the same config
at batch 2 (BatchNorm needs two) and frees it (malloc_trim): torch's kernels are then loaded, whose code pages count in
the resident set once per process whatever the run, so the figure is what this step itself adds.
Batches are random tensors of the family's shapes (no data needed). Every figure comes from this run.
"""

import argparse
import ctypes
import gc
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import limits, params  # noqa: E402
from genlab.registry import FAMILIES, get_family  # noqa: E402
from genlab.train import memory_estimate  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from tiny_configs import TINY  # noqa: E402

# per family, the largest config the public limits let through (parameters under PUBLIC.max_parameters);
# the GPT's is issue 15's 4.9M-parameter one, with and without dropout (two attention paths)
LARGE = {
    "gan": [{"g_width": 64, "d_width": 128}],
    "vae": [{}],
    "diffusion": [{}],
    "gpt": [{"context": 1024, "n_layer": 2, "n_head": 8, "n_embd": 448},
            {"context": 1024, "n_layer": 2, "n_head": 8, "n_embd": 448, "dropout": 0.0}],
    "lstm": [{"context": 1024, "n_layer": 1, "hidden": 1024}],
    "judge": [{"width": 128}],
}
TINY_BATCH = 256  # test-sized models at batch 8 keep a few hundred kB: below what a resident set resolves


def build_config(family, overrides: dict):
    return params.build(family.config_cls, overrides)


def estimate(family, overrides: dict):
    import torch
    config = build_config(family, overrides)
    with torch.device("meta"):
        model = family.model_cls(config)
    return memory_estimate.step_memory(model, config), sum(p.numel() for p in model.parameters())


def cases(names):
    """(family, label, config overrides, batch size) from test size to the public maximum, each once."""
    for name in names:
        family = FAMILIES[name]
        rows = [("tiny", dict(TINY[family.name]), TINY_BATCH),
                ("quick", dict(family.quick_config), (family.quick_recipe or family.recipe).batch_size),
                ("shipped", {}, family.recipe.batch_size)]
        for overrides in LARGE[name]:
            need, count = estimate(family, overrides)
            assert count <= limits.PUBLIC.max_parameters, (name, overrides, count)
            rows.append(("public max", overrides,
                         min(limits.PUBLIC.max_batch_size, need.largest_batch(limits.PUBLIC.max_step_memory))))
        seen = []
        for label, overrides, batch in rows:
            if (overrides, batch) not in seen:  # a family whose quick preset is its shipped one, say
                seen.append((overrides, batch))
                yield name, label, overrides, batch


def _resident(key: str) -> int:
    return int(re.search(rf"{key}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024


def _batches(torch, family, config, batch_size: int, count: int):
    generator = torch.Generator().manual_seed(0)
    if family.data == "text":
        return [torch.randint(len(config.vocab), (batch_size, config.context + 1), generator=generator)
                for _ in range(count)]
    return [(torch.rand(batch_size, 1, 28, 28, generator=generator) * 2 - 1,
             torch.randint(10, (batch_size,), generator=generator)) for _ in range(count)]


def _train(torch, family, config, batches) -> None:
    model = family.model_cls(config).train()
    optimizers = model.configure_optimizers(family.recipe)
    for batch in batches:
        model.training_step(batch, optimizers)


def measure(name: str, overrides: dict, batch_size: int, steps: int) -> int:
    """Child process: the step's resident-set peak in bytes over what was resident before the model."""
    import torch
    family = get_family(name)
    config = build_config(family, overrides)
    _train(torch, family, config, _batches(torch, family, config, 2, 2))  # warm-up: loads the kernels
    batches = _batches(torch, family, config, batch_size, steps)
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    baseline = _resident("VmRSS")
    model = family.model_cls(config).train()
    optimizers = model.configure_optimizers(family.recipe)
    peak = 0
    for batch in batches:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        model.training_step(batch, optimizers)
        peak = max(peak, _resident("VmHWM") - baseline)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # name, config JSON, batch size (one case)
    args = parser.parse_args()
    if args.child:
        name, overrides, batch_size = json.loads(args.child)
        print(json.dumps({"peak": measure(name, overrides, batch_size, args.steps)}))
        return 0
    budget = memory_estimate.readable(limits.PUBLIC.max_step_memory)
    print(f"one training step, estimate vs measured resident-set peak; public budget {budget}\n")
    print(f"{'family':9} {'case':10} {'config':58} {'batch':>5} {'estimate':>9} {'measured':>9} {'ratio':>5}")
    failures = 0
    for name, label, overrides, batch_size in cases(args.families):
        need, _ = estimate(get_family(name), overrides)
        child = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child",
                                json.dumps([name, overrides, batch_size])],
                               capture_output=True, text=True, check=True, cwd=ROOT)
        measured = json.loads(child.stdout.strip().splitlines()[-1])["peak"]
        ratio = need.total(batch_size) / measured
        verdict = "PASS" if 0.5 <= ratio <= 2.0 else "FAIL"
        failures += verdict == "FAIL"
        shown = json.dumps(overrides, separators=(",", ":")) if overrides else "(defaults)"
        print(f"{name:9} {label:10} {shown:58} {batch_size:>5} {_mb(need.total(batch_size)):>9} "
              f"{_mb(measured):>9} {ratio:>5.2f} {verdict}", flush=True)
    print(f"\n{failures} case(s) outside 2x of the measurement" if failures else "\nevery estimate within 2x")
    return 1 if failures else 0


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


if __name__ == "__main__":
    sys.exit(main())
