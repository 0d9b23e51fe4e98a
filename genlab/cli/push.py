"""`python -m genlab push RUN_OR_FAMILY --repo USER/NAME`: share a model on the Hugging Face Hub.

RUN_OR_FAMILY is a family name (its shipped weights/<family>/) or a folder on this machine: the
`--out` folder of `python -m genlab train`, or a `--checkpoint` folder. Its family is told by its
config.json. The model must load (strict) before anything is sent; `--dry-run` lists the files
and their sizes and sends nothing. The token comes from --token, $HF_TOKEN or the cached login
(genlab.cli.deploy.find_token) and goes to huggingface_hub only: never printed or written.
"""

import argparse
import sys
from pathlib import Path
from typing import Tuple

from genlab import weights
from genlab.cli.deploy import NO_TOKEN, find_token, human
from genlab.models.base import Family
from genlab.registry import FAMILIES
from genlab.train import hub


def source(run_or_family: str) -> Tuple[Family, Path]:
    """(family, folder) of a family name (its shipped weights) or a weights or checkpoint folder."""
    if run_or_family in FAMILIES:
        family = FAMILIES[run_or_family]
        folder = weights.shipped(family)
        if not (folder / weights.TENSORS).is_file():
            raise ValueError(f"{family.name} has no shipped weights in {folder}; train them with "
                             f"`python -m genlab train {family.name}` or give a run folder")
        return family, folder
    folder = Path(run_or_family)
    if not folder.is_dir():
        raise ValueError(f"{run_or_family!r} is neither a family ({', '.join(FAMILIES)}) nor a folder")
    return hub.family_of(folder), folder


def cmd_push(args: argparse.Namespace) -> int:
    repo_id = hub.check_repo_id(args.repo)
    family, folder = source(args.run_or_family)
    files = hub.sizes(hub.planned_files(family, folder, repo_id))
    width = max(len(name) for name, _ in files)
    print(f"{family.name} model from {folder}:")
    for name, size in files:
        print(f"  {name:<{width}}  {human(size):>9}")
    print(f"total: {len(files)} files, {human(sum(size for _, size in files))}")
    visibility = "private" if args.private else "default visibility"
    if args.dry_run:
        print(f"dry run: would upload to model repo {repo_id} ({visibility}); nothing sent")
        return 0
    token = find_token(args.token)
    if not token:
        print(f"error: {NO_TOKEN}", file=sys.stderr)
        return 2
    url = hub.push(family, folder, repo_id, token, private=args.private)
    print(f"pushed {len(files)} files to {url}")
    return 0


def add_push_parser(sub) -> None:
    p = sub.add_parser("push", help="share a model (shipped or a run folder) on the Hugging Face Hub")
    p.add_argument("run_or_family", metavar="RUN_OR_FAMILY",
                   help=f"a family ({', '.join(FAMILIES)}: its shipped weights) or a run folder "
                        "(--out or --checkpoint of `train`); a family's name wins over a folder of that name")
    p.add_argument("--repo", required=True, help="USER/NAME of the model repo (created if needed)")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--dry-run", action="store_true", help="list the files and their sizes; send nothing")
    p.add_argument("--token", help="Hugging Face token with write access (default: $HF_TOKEN, then "
                                   "`huggingface-cli login`); never printed or stored")
    p.set_defaults(func=cmd_push)
