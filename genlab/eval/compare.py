"""The same digit from every image family, timed, next to each family's measured quality (from its
metrics.json, with real data's own value and a note on what each figure measures beside it).

Conditional families are asked for the digit. An unconditional family (the VAE) cannot be asked,
so it draws prior samples until the judge calls enough of them that digit, and says how many it
drew: its time per digit counts every draw, which is the honest price of getting that digit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List

import torch

from genlab import weights
from genlab.eval import metric_notes, metrics
from genlab.models import base, sampling
from genlab.models.base import Family
from genlab.params import RequestError, check_value
from genlab.registry import FAMILIES

MAX_PER_FAMILY = 16
MAX_DRAWS = 8  # rounds of prior samples an unconditional family may draw looking for the digit


def image_families() -> List[Family]:
    return [f for f in FAMILIES.values() if f.output == "image"]


@dataclass
class Entry:
    family: Family
    samples: torch.Tensor  # (k, 1, 28, 28) in [-1, 1], k <= n (fewer if an unconditional family ran dry)
    seconds: float
    drawn: int  # samples made to get these (n for conditional families)
    measured: Dict[str, object]  # the family's metrics.json (empty when it has none)

    @property
    def figures(self) -> Dict[str, object]:
        return self.measured.get("summary", {})

    @property
    def scored(self) -> str:
        """How many samples its figures come from ("10000", or "10000 (class KL to recall: 1000)")."""
        also = self.measured.get("distribution_samples")
        return f"{self.measured.get('samples', '?')}" + (f" (class KL to recall: {also})" if also else "")

    @property
    def short(self) -> str:
        """"GAN" for "GAN (class-conditional DCGAN)": a column heading."""
        return self.family.title.split(" (")[0]

    @property
    def ms_per_digit(self) -> float:
        return 1000 * self.seconds / max(1, len(self.samples))

    @property
    def how(self) -> str:
        if self.family.conditional:
            return "asked for the digit"
        return f"unconditional: kept {len(self.samples)} of {self.drawn} prior samples the judge calls this digit"


def compare_request(digit, n, seed) -> sampling.DigitRequest:
    request = sampling.digit_request(digit, check_value("number per family", n, int, 1, MAX_PER_FAMILY), seed)
    if request.digit is None:
        raise RequestError("compare one digit at a time: choose 0-9")
    return request


def measured(family: Family) -> Dict[str, object]:
    return weights.read_json(weights.shipped(family) / "metrics.json")


def draw(model, family: Family, request: sampling.DigitRequest, judge) -> Entry:
    """`request.n` samples of `request.digit` from `model`, timed (the judge's filtering included)."""
    generator = torch.Generator().manual_seed(request.seed)
    began = time.perf_counter()
    with base.evaluating(model):
        if family.conditional:
            samples = model.sample(request.n, generator=generator,
                                   labels=sampling.labels_for(request.n, request.digit)).cpu()
            drawn = request.n
        else:
            kept, drawn = [], 0
            for _ in range(MAX_DRAWS):
                batch = model.sample(10 * request.n, generator=generator).cpu()
                drawn += len(batch)
                verdict = metrics.judge_outputs(judge, batch)["probs"].argmax(1)
                kept.append(batch[verdict == request.digit])
                if sum(len(k) for k in kept) >= request.n:
                    break
            samples = torch.cat(kept)[:request.n]
    return Entry(family, samples, time.perf_counter() - began, drawn, measured(family))


def markdown_table(head: List[str], rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def quality_cell(summary: Dict[str, object], figure: str) -> str:
    """"0.83 (real 0.87)": the family's figure with real data's own value beside it."""
    if figure not in summary:
        return "n/a"
    real = metric_notes.real_value(summary, figure)
    return f"{summary[figure]}" + ("" if real is None else f" (real {real})")


def table(entries: List[Entry]) -> str:
    """Two markdown tables: the time each family took this click, then every measured figure per family."""
    timing = markdown_table(["model", "how", "ms per digit (this click)"],
                            [[e.family.title, e.how, f"{e.ms_per_digit:.1f}"] for e in entries])
    figures = [k for k in metric_notes.NOTES if any(k in e.figures for e in entries)]
    quality = markdown_table(["figure"] + [e.short for e in entries] + ["what it measures; which way is better"],
                             [[k] + [quality_cell(e.figures, k) for e in entries] + [metric_notes.NOTES[k]]
                              for k in figures])
    samples = ", ".join(f"{e.short} {e.scored}" for e in entries)
    return (f"{timing}\n\n**Measured quality** (`python -m genlab eval <family>`; samples scored: {samples})"
            f"\n\n{quality}")
