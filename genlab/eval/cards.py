"""Model cards: a short README.md per weights folder, rendered from what the folder holds."""

import sys
from pathlib import Path

from genlab import weights
from genlab.data import datasets
from genlab.eval import metric_notes
from genlab.models.base import Family
from genlab.registry import FAMILIES

_TEMPLATE = """---
library_name: genlab
tags: [genlab, {tag}, {name}]
---
# genlab {name}: {title}

{doc}

## Training
{training}

## Measured quality
{metrics}

## Files
`config.json` (the model config), `model.safetensors` (weights, no pickles), `training.json`
(the exact command and run facts), `metrics.json` (from `python -m genlab eval {name}`).
Load with `genlab.weights.load(FAMILIES["{name}"], folder)`.
"""


def render(family: Family, folder: Path) -> str:
    run = weights.read_json(folder / "training.json")
    metrics = weights.read_json(folder / "metrics.json")
    training = (f"- command: `{run['command']}`\n- steps: {run['steps']} (batch {run['recipe']['batch_size']})\n"
                f"- wall time: {run['wall_time_s'] / 60:.1f} min on {run['hardware']} (torch {run['torch']})\n"
                f"- data: {run['data']}" + (f"\n- note: {run['note']}" if run.get("note") else "")
                if run else "not recorded")
    summary = metrics.get("summary", {})
    measured = quality_table(summary) if summary else "not measured yet"
    doc = (sys.modules[family.model_cls.__module__].__doc__ or "").strip()
    return _TEMPLATE.format(tag=datasets.DATASETS[family.data].tag, name=family.name, title=family.title, doc=doc,
                            training=training, metrics=measured)


def quality_table(summary: dict) -> str:
    """Markdown rows of a metrics.json summary; with real data's value and a note beside each figure that has them."""
    if not metric_notes.explained(summary):
        lines = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
        return f"| metric | value |\n|---|---|\n{lines}"
    rows = []
    for k, v in summary.items():
        if k not in metric_notes.REAL_ENTRIES:  # real values sit beside their figure instead
            real = metric_notes.real_value(summary, k)
            rows.append(f"| {k} | {v} | {'' if real is None else real} | {metric_notes.NOTES.get(k, '')} |")
    return ("| metric | value | real data | what it measures; which way is better |\n|---|---|---|---|\n"
            + "\n".join(rows))


def write(family: Family, folder: Path) -> None:
    (Path(folder) / "README.md").write_text(render(family, Path(folder)), encoding="utf-8")


def figures(family: Family) -> str:
    """The measured summary of `family`'s shipped weights as one line ("" when not measured)."""
    summary = weights.read_json(weights.shipped(family) / "metrics.json").get("summary", {})
    return ", ".join(f"{k} {v}" for k, v in summary.items())


def table_rows() -> list:
    """README rows, one per family with measured shipped weights: | name | title | figures |"""
    return [f"| {name} | {family.title} | {figures(family)} |" for name, family in FAMILIES.items() if figures(family)]
