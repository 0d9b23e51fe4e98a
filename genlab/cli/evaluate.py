"""`python -m genlab eval MODEL [--judge JUDGE_RUN] [--data PICTURES]`: measure shipped weights or a run.

Image metrics live in a judge classifier's feature space, so a run trained on other data is scored by
a judge trained on that same data, against that data's own held-out floor; the shipped MNIST judge
is refused for it rather than giving numbers that mean nothing.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from genlab import devices, params, weights
from genlab.data import image_sets
from genlab.data.datasets import DATASETS
from genlab.eval import cards, metrics
from genlab.registry import FAMILIES, get_family
from genlab.train import provenance


def add_eval_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure a family's shipped weights or a run's weights folder, and write "
                                    "metrics.json (and the card) beside them")
    p.add_argument("model", help=f"a family ({', '.join(FAMILIES)}: its shipped weights) or a weights folder "
                                 "that `python -m genlab train` wrote")
    p.add_argument("--judge", help="the judge's weights folder (default: the shipped MNIST judge); for a run on "
                                   "other data, a judge trained on the same data (`train judge --data ...`)")
    p.add_argument("--data", help="a run on your own pictures: the same .zip or folder again (checked by SHA-256)")
    p.add_argument("--n", type=int, default=10000, help="samples to score (a multiple of the number of classes)")
    p.set_defaults(func=cmd_eval)


def family_of(folder: Path):
    """The family a weights folder belongs to: training.json's `family`, else its recorded command."""
    run = weights.read_json(folder / provenance.TRAINING)
    name = run.get("family")
    if not name:
        found = re.search(r"\btrain\s+(\w+)", str(run.get("command", "")))
        name = found.group(1) if found else None
    if name not in FAMILIES:
        raise ValueError(f"{folder}: cannot tell which family these weights are (no training.json naming one); "
                         f"give a family name instead ({', '.join(FAMILIES)})")
    return FAMILIES[name]


def data_for(folder: Path, pictures) -> object:
    """The (train, held-out) splits the run in `folder` trained on, found again: a named set by its name,
    the user's own pictures from `pictures`, which must be the same bytes."""
    entry = provenance.dataset_of(folder)
    key = provenance.data_key(entry)
    if key in image_sets.IMAGE_SOURCES:
        return image_sets.load_named(key, download=True)
    if not pictures:
        raise ValueError(f"{folder} trained on your own pictures ({provenance.describe(entry)}); give the same "
                         ".zip or folder with --data")
    splits = image_sets.load_image_data(pictures)
    if provenance.data_key(provenance.record(splits.train)["dataset"]) != key:
        raise ValueError(f"--data {pictures}: not the pictures this run trained on (their SHA-256 differs)")
    return splits


def cmd_eval(args: argparse.Namespace) -> int:
    if args.model in FAMILIES:
        family, folder = get_family(args.model), weights.shipped(get_family(args.model))
    else:
        folder = Path(args.model)
        if not folder.is_dir():
            raise ValueError(f"{args.model!r} is neither a family ({', '.join(FAMILIES)}) nor a weights folder")
        family = family_of(folder)
    device = devices.resolve(args.device)
    model = weights.load(family, folder, device=device)
    classes = len(provenance.classes_of(folder))
    n = params.check_value("--n", args.n, int, 100, 60000)
    if n % classes:
        raise ValueError(f"--n must be a multiple of {classes} (the same number of samples per class), got {n}")
    judge_folder = Path(args.judge) if args.judge else weights.shipped(FAMILIES["judge"])
    if family.output == "image":
        provenance.check_judge_matches(folder, judge_folder)
    judge = weights.load(FAMILIES["judge"], judge_folder, device=device)
    data = data_for(folder, args.data) if DATASETS[family.data].choose is not None else None
    result = metrics.evaluate(family, model, judge, n=n, data=data, progress=lambda m: print(m, file=sys.stderr))
    weights.write_json(folder / "metrics.json", result)
    cards.write(family, folder)
    print(json.dumps(result["summary"], indent=2))
    return 0
