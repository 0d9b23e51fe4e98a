"""A network drawn as its stages, data flowing left to right, with the shape each stage hands on
(genlab.eval.anatomy reads them off the model built from a config: a run's own sizes show)."""

import dataclasses
import html
from itertools import groupby
from typing import List, Tuple

from genlab import weights
from genlab.eval import anatomy
from genlab.models.base import Family
from genlab.registry import get_family
from genlab.ui.recently_used import RecentlyUsed

MIN_PART = 3  # stages a top-level part needs to be drawn as a network of its own


def _shape(shape) -> str:
    return "×".join(str(d) for d in shape) or "scalar"


def _count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def _box(title: str, shape, detail: str, cls: str = "") -> str:
    return (f'<div class="net-stage {cls}"><div class="net-kind">{html.escape(title)}</div>'
            f'<div class="net-shape">{html.escape(_shape(shape))}</div>'
            f'<div class="net-params">{html.escape(detail)}</div></div>')


def parts(stages: List[anatomy.Stage]) -> List[Tuple[str, List[anatomy.Stage]]]:
    """Rows to draw: one per sub-network when the model has several (a GAN's generator and discriminator,
    a VAE's encoder and decoder: top-level parts of at least MIN_PART stages), else one row for all."""
    grouped = [(name, list(members)) for name, members in groupby(stages, key=lambda s: s.name.split(".")[0])]
    if sum(len(members) >= MIN_PART for _, members in grouped) >= 2:
        return grouped
    return [("", stages)]


def render(stages: List[anatomy.Stage], title: str) -> str:
    """HTML: a row of boxes per part, stages in the order data reaches them, each with its output shape."""
    rows = []
    arrow = '<span class="net-arrow">→</span>'
    for part, members in parts(stages):
        boxes = [_box("input", members[0].takes, "")] if members[0].takes else []
        boxes += [_box(s.kind, s.shape, f"{s.name} · {_count(s.parameters)}") for s in members]
        total = _count(sum(s.parameters for s in members))
        name = f'<div class="net-part-name">{html.escape(part)} <span class="net-params">{total} parameters</span></div>'
        rows.append(f'<div class="net-part">{name if part else ""}<div class="net-flow">{arrow.join(boxes)}</div></div>')
    return (f'<div class="net-diagram"><div class="net-title">{html.escape(title)}</div>{"".join(rows)}'
            '<div class="net-note">Each box: the layer, the shape it hands on (one example\'s, without the batch '
            'dimension), where it sits in the model and its parameters. Read off the network as it runs.</div></div>')


DRAWINGS_KEPT = 64  # drawings kept, by family and config: a run picked again is not traced again
_drawn: RecentlyUsed = RecentlyUsed(DRAWINGS_KEPT)


def diagram(family: Family, config) -> str:
    """`family` built from `config`, drawn; traced once per distinct config (the model pickers ask again
    at every change of model, and most runs share a preset's config)."""
    key = (family.data, family.name, tuple(sorted(dataclasses.asdict(config).items())))
    return _drawn.get_or_make(key, lambda: render(anatomy.trace(family, config), f"{family.title}: how it is built"))


def shipped_diagram(name: str) -> str:
    """The shipped model of family `name`."""
    family = get_family(name)
    return diagram(family, weights.read_config(family, weights.shipped(family)))
