"""The same digit from every image family, timed, next to each family's measured quality.

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
from genlab.eval import metrics
from genlab.models import base, sampling
from genlab.models.base import Family
from genlab.params import RequestError, check_value
from genlab.registry import FAMILIES

MAX_PER_FAMILY = 16
MAX_DRAWS = 8  # rounds of prior samples an unconditional family may draw looking for the digit
FIGURES = ("FID / floor", "class fidelity", "inception score")


def image_families() -> List[Family]:
    return [f for f in FAMILIES.values() if f.output == "image"]


@dataclass
class Entry:
    family: Family
    samples: torch.Tensor  # (k, 1, 28, 28) in [-1, 1], k <= n (fewer if an unconditional family ran dry)
    seconds: float
    drawn: int  # samples made to get these (n for conditional families)
    figures: Dict[str, object]  # from the family's metrics.json (empty when it has none)

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


def figures(family: Family) -> Dict[str, object]:
    summary = weights.read_json(weights.shipped(family) / "metrics.json").get("summary", {})
    return {k: summary[k] for k in FIGURES if k in summary}


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
    return Entry(family, samples, time.perf_counter() - began, drawn, figures(family))


def table(entries: List[Entry]) -> str:
    """A markdown table: one row per family, measured time next to the metrics.json figures."""
    head = ["model", "how", "ms per digit (this click)"] + list(FIGURES)
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in entries:
        cells = [e.family.title, e.how, f"{e.ms_per_digit:.1f}"] + [str(e.figures.get(k, "n/a")) for k in FIGURES]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
