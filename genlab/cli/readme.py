"""`python -m genlab readme`: README.md's generated parts, from spaces.yaml and the weights' metrics.

The front matter (what Spaces read) is spaces.yaml's `space:` section; the model table is one row
per family with measured shipped weights (weights/<family>/metrics.json), followed by one line per
image figure saying what it measures and which way is better. Everything else in the
README is written by hand and left as it is. `--check` changes nothing and fails when either part
is stale (a test runs it).
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

from genlab import REPO
from genlab.cli.deploy import settings
from genlab.eval import cards, metric_notes

TABLE_START = "<!-- models-table: written by `python -m genlab readme` -->"
TABLE_END = "<!-- /models-table -->"
TABLE_HEADER = "| family | what | measured (`python -m genlab eval <family>`) |\n|---|---|---|"


def front_matter(root: Path) -> str:
    space = yaml.safe_dump(settings(root)["space"], sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{space}---\n"


def model_table() -> str:
    legend = "Each image figure `x` comes with `x (real)` (`FID floor` for FID): real training images " \
             "scored against the same test images: what real data itself gets.\n\n" + metric_notes.legend()
    return "\n".join([TABLE_START, TABLE_HEADER, *cards.table_rows(), "", legend, TABLE_END])


def render(root: Path, text: str) -> str:
    """`text` (root's README.md) with both generated parts current; ValueError when its markers are missing."""
    body = re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.S)
    table = re.compile(re.escape(TABLE_START) + r".*?" + re.escape(TABLE_END), re.S)
    if not table.search(body):
        raise ValueError(f"{Path(root) / 'README.md'}: no model table between {TABLE_START} and {TABLE_END}")
    return front_matter(root) + table.sub(lambda _: model_table(), body, count=1)


def cmd_readme(args: argparse.Namespace) -> int:
    path = Path(args.root) / "README.md"
    current = path.read_text(encoding="utf-8")
    wanted = render(args.root, current)
    if args.check:
        if current != wanted:
            print(f"{path} is stale: run `python -m genlab readme`", file=sys.stderr)
            return 1
        print(f"{path} is current")
        return 0
    if current != wanted:
        path.write_text(wanted, encoding="utf-8")
    print(f"{'wrote' if current != wanted else 'unchanged:'} {path}")
    return 0


def add_readme_parser(sub) -> None:
    p = sub.add_parser("readme", help="regenerate README.md's front matter and model table")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when README.md is stale")
    p.add_argument("--root", default=str(REPO), help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_readme)
