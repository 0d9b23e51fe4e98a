"""python -m genlab train|sample|eval|info. Flags for `train` come from the config dataclasses."""

import argparse
import dataclasses
import json
import math
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from tqdm import tqdm

from genlab import devices, images, params, weights
from genlab.cli.deploy import add_deploy_parser
from genlab.cli.evaluate import add_eval_parser
from genlab.cli.export import add_export_parser
from genlab.cli.push import add_push_parser
from genlab.cli.readme import add_readme_parser
from genlab.cli.sample import add_sample_parser
from genlab.data import datasets, image_sets, mnist, preprocess
from genlab.data.download import DataError
from genlab.eval import cards
from genlab.models import sampling, vae
from genlab.registry import FAMILIES, get_family
from genlab.train import checkpoints, parallel, provenance
from genlab.train.loop import NonFiniteLoss, new_model, train

AUTOENCODERS = [name for name, f in FAMILIES.items() if hasattr(f.model_cls, "encode")]  # optional verb


def _add_dataclass_flags(parser: argparse.ArgumentParser, defaults) -> None:
    """One --flag per dataclass field, typed like its default, with its help and bounds; unset stays None."""
    for f in params.tunable(defaults):
        value, spec = getattr(defaults, f.name), params.spec(f)
        kind = (lambda s: s.lower() in ("1", "true", "yes")) if isinstance(value, bool) else type(value)
        bounds = f", {spec['low']:g}..{spec['high']:g}" if spec["low"] is not None else ""
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None, choices=spec["choices"],
                            help=f"{spec['help']} (default {value!r}{bounds})".replace("%", "%%"))


def _overrides(args: argparse.Namespace, cls) -> dict:
    return {f.name: getattr(args, f.name) for f in params.tunable(cls) if getattr(args, f.name) is not None}


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} CPU ({os.cpu_count()} cores), {torch.get_num_threads()} torch threads"


def cmd_train(args: argparse.Namespace) -> int:
    family = get_family(args.family)
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint(family, args)
    base = family.recipe
    if args.resume:
        base = type(base)(**checkpoints.read_recipe(checkpoint))
    recipe = params.build(type(base), {**dataclasses.asdict(base), **_overrides(args, type(base))})
    max_seconds = params.check_value("--max-seconds", args.max_seconds, float, 0.0, 1e7) or math.inf
    model_flags = _overrides(args, family.config_cls)
    params.build(family.config_cls, model_flags)  # bad flags: refused before any data
    if args.init and (args.resume or model_flags):
        raise ValueError("--init starts from a trained model as it is: no --resume and no model flags with it")
    processes = parallel.join(devices.resolve(args.device))  # this one, or each that `accelerate launch` started
    device = processes.device
    with processes.main_first():  # one download per machine
        corpus = training_data(family, args.data)
    if processes.is_main:
        print(f"training {family.name} on {corpus.source}, device {device}, {recipe.steps} steps", file=sys.stderr)
    derived = datasets.derived_config(family, corpus)
    if args.init:
        model = weights.load(family, Path(args.init), device)
    else:
        config = (weights.read_config(family, checkpoint) if args.resume else
                  params.build(family.config_cls, {**derived, **model_flags}))
        model = new_model(family, config, recipe, device)
    check_fits_data(model.config, derived, args.init or checkpoint)
    out = Path(args.out) if args.out else default_out(family, args)
    command = "python -m genlab " + " ".join(shlex.quote(a) for a in (args.argv or sys.argv[1:]))
    began = time.time()
    last = None
    bar = tqdm(total=recipe.steps, unit="step", disable=not sys.stderr.isatty() or not processes.is_main,
                dynamic_ncols=True)
    run = train(family, model, corpus, recipe, checkpoint=checkpoint, save_every=args.save_every,
                resume=args.resume, max_seconds=max_seconds, processes=processes)
    try:
        with bar:
            for progress in run:
                if last is None:
                    bar.update(progress.start_step)
                last = progress
                bar.update(1)
                if progress.step % args.log_every == 0 or progress.step == progress.total:
                    losses = " ".join(f"{k}={v:.4f}" for k, v in progress.losses.items())
                    bar.set_postfix_str(losses, refresh=False)
                    if bar.disable and processes.is_main:  # a log file, not a terminal: one plain line per report
                        print(f"[{progress.step:>6}/{progress.total}] {progress.steps_per_second:.1f} it/s "
                              f"eta {progress.eta / 60:.1f} min  {losses}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        run.close()  # writes the checkpoint
        print("interrupted; resume with the same command plus --resume", file=sys.stderr)
    if last is None:
        return 130
    facts = {"command": command, "family": family.name, "steps": last.step, "resumed_from": last.start_step,
             **({"initialised_from": args.init} if args.init else {}),
             "recipe": dataclasses.asdict(recipe), "wall_time_s": round(time.time() - began, 1),
             "hardware": hardware(device), "torch": torch.__version__, "data": corpus.source,
             **provenance.record(corpus), "final_losses": last.losses, **processes.facts(), **({"note": last.note} if last.note else {})}
    if last.note and processes.is_main:
        print(last.note, file=sys.stderr)

    def write() -> None:
        weights.save(model, out, {"training.json": json.dumps(facts, indent=2) + "\n"}, dtype=family.storage_dtype)
        cards.write(family, out)
        print(f"saved {out} (step {last.step}; checkpoint in {checkpoint})", file=sys.stderr)
    # the main process alone writes; the others wait for it, since a launcher ends the whole group when
    # one process exits with an error code, which would cut the main process's save short
    processes.on_main(write)
    return 0 if last.step == last.total else 130


def training_data(family, chosen: Optional[str]):
    """The training split: the family's default data, or the set `--data` names (a zip's or folder's
    skipped files are reported)."""
    dataset = datasets.DATASETS[family.data]
    if not chosen:
        return dataset.load("train", download=True)
    splits = dataset.choose(chosen, download=True)
    if splits.skipped:
        print(splits.skipped, file=sys.stderr)
    return splits.train


def default_out(family, args) -> Path:
    """weights/<family> for the default data (the shipped models); runs/<family>-<data> for other data,
    so that training on Fashion-MNIST never overwrites the shipped digit model."""
    chosen = args.data
    if not chosen:
        return weights.shipped(family)
    slug = re.sub(r"[^a-z0-9]+", "-", Path(chosen).stem.lower()).strip("-") or "data"
    return Path("runs") / f"{family.name}-{slug}"


def default_checkpoint(family, args) -> Path:
    if not args.data:
        return Path("runs") / family.name
    out = default_out(family, args)
    return out.with_name(f"{out.name}-checkpoint")


def check_fits_data(config, derived: dict, source) -> None:
    """A resumed or initialised model must fit the data: a 10-class model cannot train on 3 classes."""
    clash = {k: (getattr(config, k), v) for k, v in derived.items() if getattr(config, k) != v}
    if clash:
        what = ", ".join(f"{k} {a!r} in the model, {b!r} in the data" for k, (a, b) in clash.items())
        raise ValueError(f"the model from {source} does not fit this data: {what}")


def cmd_reconstruct(args: argparse.Namespace) -> int:
    family = get_family(args.family)
    out = Path(args.out)
    if out.suffix.lower() not in (".npy", ".png"):
        raise ValueError(f"--out must end in .png (original above reconstruction) or .npy, got {out.name!r}")
    if args.image:
        digits = preprocess.mnist_like(Path(args.image).read_bytes())[None]
    else:
        test = mnist.load_digits("test")
        start = params.check_value("--index", args.index, int, 0, len(test) - 1)
        count = params.check_value("--n", args.n, int, 1, min(sampling.MAX_SAMPLES, len(test) - start))
        digits = test.images[start:start + count]
    model = weights.load(family, device=devices.resolve(args.device))
    recon = vae.reconstruct(model, digits)
    if out.suffix.lower() == ".npy":
        np.save(out, images.to_unit(recon), allow_pickle=False)
    else:
        both = torch.cat([mnist.to_tensor(digits), recon])
        images.grid_image(both, scale=args.scale, columns=len(digits)).save(out)
    print(f"wrote {out} ({len(digits)} reconstructions)", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(f"torch {torch.__version__}, device {devices.resolve(args.device)}")
    for name, family in FAMILIES.items():
        trained = (weights.shipped(family) / weights.TENSORS).is_file()
        print(f"{name:8} {family.title:36} {'shipped' if trained else 'not trained':12} {cards.figures(family)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m genlab", description=__doc__)
    parser.add_argument("--device", default="", help="auto | cpu | cuda | mps (default: $GENLAB_DEVICE or auto)")
    sub = parser.add_subparsers(dest="command", required=True)

    train_parser = sub.add_parser("train", help="train a family (defaults: the shipped recipe)")
    by_family = train_parser.add_subparsers(dest="family", required=True)
    for family in FAMILIES.values():
        p = by_family.add_parser(family.name, help=family.title)
        p.add_argument("--out", help="weights folder to write at the end (default: weights/<family>)")
        p.add_argument("--checkpoint", help="resumable checkpoint folder (default: runs/<family>)")
        p.add_argument("--resume", action="store_true", help="continue from the checkpoint (same recipe)")
        p.add_argument("--init", help="start from the weights in this folder with fresh optimiser state "
                                      "(a second phase, e.g. a decaying learning rate)")
        p.add_argument("--log-every", type=int, default=100)
        p.add_argument("--save-every", type=int, default=1000, help="checkpoint every N steps (0: only at the end)")
        p.add_argument("--max-seconds", type=float, default=0,
                       help="stop (checkpoint and save) after this much wall time; 0: no limit")
        if datasets.DATASETS[family.data].choose is not None:
            p.add_argument("--data", help="train on this instead of MNIST: " + ", ".join(image_sets.IMAGE_SOURCES)
                                          + ", or a .zip or folder of class folders (cat/0001.png, dog/...); "
                                          "the run goes to runs/<family>-<data> unless --out says otherwise")
        _add_dataclass_flags(p, family.recipe)
        _add_dataclass_flags(p, family.config_cls())
        p.set_defaults(func=cmd_train, data=None)  # families with one source of data have no --data

    add_sample_parser(sub)

    p = sub.add_parser("reconstruct", help="encode and decode digits (test digits or your own image)")
    p.add_argument("family", choices=AUTOENCODERS)
    p.add_argument("--index", type=int, default=0, help="first test digit")
    p.add_argument("--n", type=int, default=10, help="number of consecutive test digits")
    p.add_argument("--image", help="a picture of a digit instead (any format; made MNIST-like)")
    p.add_argument("--scale", type=int, default=4, choices=range(1, 17), metavar="1..16")
    p.add_argument("--out", required=True, help=".png: originals above reconstructions; .npy: (N, 28, 28) in [0, 1]")
    p.set_defaults(func=cmd_reconstruct)

    add_eval_parser(sub)

    p = sub.add_parser("info", help="families, shipped weights and their metrics")
    p.set_defaults(func=cmd_info)

    add_deploy_parser(sub)
    add_export_parser(sub)
    add_push_parser(sub)
    add_readme_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (DataError, weights.WeightsError, NonFiniteLoss, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
