"""Training speed: our loop through the CLI and through the streamed Train tab, next to a bare loop.

Usage: python benchmarks/train_speed.py [--steps 300] [--families gan judge] [--repeats 3]
The bare loop calls the family's own step function in a plain `for` loop with the same model,
batch size and data, so the ratios show what genlab's loop and the UI streaming cost. The UI
figure comes from `python app.py` in its own process, streamed to a gradio_client here. Every
figure comes from this one run; set GENLAB_DATA_DIR to train on full MNIST.
"""

import argparse
import dataclasses
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import Client  # noqa: E402

from genlab.data import datasets, mnist  # noqa: E402
from genlab.params import tunable as params_of  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402

from timing import served  # noqa: E402


def bare_loop(family, steps: int, batch_size: int) -> float:
    """Steps per second of a hand-written loop around the family's step function."""
    recipe = dataclasses.replace(family.recipe, batch_size=batch_size)
    torch.manual_seed(0)
    model = family.model_cls(family.config_cls()).train()
    optimizers = model.configure_optimizers(recipe)
    dataset = datasets.DATASETS[family.data]
    batches = dataset.batches(dataset.load("train", download=False), batch_size, seed=0, **model.batch_options())
    model.training_step(next(batches), optimizers)  # warm-up, as our loop's first step is counted
    began = time.perf_counter()
    for _ in range(steps):
        model.training_step(next(batches), optimizers)
    return steps / (time.perf_counter() - began)


def cli_loop(family, steps: int, batch_size: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "genlab", "train", family.name, "--steps", str(steps), "--batch-size",
             str(batch_size), "--out", f"{tmp}/out", "--checkpoint", f"{tmp}/ckpt", "--save-every", "0",
             "--log-every", str(steps)], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(re.findall(r"\] ([\d.]+) it/s", result.stderr)[-1])


def ui_loop(client: Client, family, steps: int, batch_size: int) -> float:
    """Steps/s reported by the Train tab at the end of a run streamed to a gradio_client."""
    fields = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/train_start"]["parameters"]
    values = [p["parameter_default"] for p in fields]
    offset = 4  # family, then the text-data inputs (source, pasted, uploaded): defaults, tiny-shakespeare
    for name, other in FAMILIES.items():  # the flat form: every family's recipe then config fields
        n_recipe = len(params_of(other.recipe))
        n_config = len(params_of(other.config_cls))
        if name == family.name:
            recipe = dataclasses.replace(family.recipe, steps=steps, batch_size=batch_size)
            values[offset:offset + n_recipe] = [getattr(recipe, f.name) for f in params_of(recipe)]
            default = family.config_cls()
            values[offset + n_recipe:offset + n_recipe + n_config] = [getattr(default, f.name)
                                                                       for f in params_of(default)]
        offset += n_recipe + n_config
    values[0] = family.name
    status = client.predict(*values, api_name="/train_start")[0]
    return float(re.search(r"([\d.]+) steps/s", status).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--families", nargs="+", default=["gan", "gpt"])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    args = parser.parse_args()
    with served([sys.executable, "app.py"], ROOT) as (url, _, _process):
        run(args, Client(url, analytics_enabled=False, verbose=False))


def run(args, client: Client) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps per measurement, "
          f"medians of {args.repeats} interleaved rounds, "
          f"data: {mnist.load_digits('train').source}")
    print("| family | batch | bare loop | CLI (train()) | ratio | Train tab, streamed | ratio | targets |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.families:
        family = FAMILIES[name]
        batch = family.recipe.batch_size
        rounds = [(bare_loop(family, args.steps, batch), cli_loop(family, args.steps, batch),
                   ui_loop(client, family, args.steps, batch)) for _ in range(args.repeats)]  # interleaved: drift hits all
        bare, cli, ui = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"| {name} | {batch} | {bare:.2f} steps/s | {cli:.2f} | {cli / bare:.3f} | {ui:.2f} | "
              f"{ui / bare:.3f} | CLI >= 0.95, UI >= 0.90 |")


if __name__ == "__main__":
    main()
