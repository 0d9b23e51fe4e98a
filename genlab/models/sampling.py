"""Checked sampling requests shared by the CLI and the UI: bounds live here, once.

Every public entry point validates its arguments (raising RequestError, a ValueError, with the valid range)
before touching a model, so a bad request costs microseconds, not a forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Union

import torch

from genlab.models import base
from genlab.params import RequestError, check_seed, check_value

MAX_SAMPLES = 100
TRUNCATION_RANGE = (0.1, 3.0)
INTERPOLATION_STEPS = (2, 32)
DIGIT_CHOICES = ["mix"] + [str(d) for d in range(10)]


@dataclass(frozen=True)
class DigitRequest:
    digit: Optional[int]  # None: a mix of all ten, in order 0..9
    n: int
    seed: int
    truncation: Optional[float]  # None: no truncation


def _integer(name: str, value, low: int, high: int) -> int:
    return check_value(name, value, int, low, high)


def parse_digit(digit: Union[str, int, None]) -> Optional[int]:
    """'mix' (or None) -> None; '0'..'9' or 0..9 -> int; anything else -> RequestError. Whether the model
    has that class is `check_class`'s to say, once the model is chosen."""
    if digit is None or str(digit).strip().lower() in ("mix", "all", ""):
        return None
    text = str(digit).strip()
    if len(text) == 1 and text in "0123456789":
        return int(text)
    raise RequestError(f"digit must be 0-9 or 'mix', got {digit!r}")


def classes_of(model) -> int:
    """How many classes a conditional image model was trained on (its config's `classes`; digits: 10)."""
    return getattr(getattr(model, "config", None), "classes", 10)


def check_class(model, digit: Optional[int]) -> None:
    """RequestError when `digit` is not one of the model's classes (a 4-class run has no class 7)."""
    if digit is not None and digit >= classes_of(model):
        raise RequestError(f"this model knows classes 0-{classes_of(model) - 1}, got {digit}")


def parse_truncation(value) -> Optional[float]:
    if value is None:
        return None
    return check_value("truncation", value, float, *TRUNCATION_RANGE)


def digit_request(digit, n, seed, truncation=None) -> DigitRequest:
    return DigitRequest(parse_digit(digit), _integer("number of samples", n, 1, MAX_SAMPLES),
                        check_seed(seed), parse_truncation(truncation))


def labels_for(n: int, digit: Optional[int], classes: int = 10) -> torch.Tensor:
    """(n,) class labels: all `digit`, or 0..classes-1 repeating for a mix."""
    return torch.full((n,), digit, dtype=torch.long) if digit is not None else torch.arange(n) % classes


def columns_for(request: DigitRequest) -> int:
    """Grid width: ten columns for a mix (one per digit), otherwise as square as possible."""
    return min(request.n, 10) if request.digit is None else math.ceil(math.sqrt(request.n))


def sample_digits(model, request: DigitRequest, settings=None) -> torch.Tensor:
    """(n, 1, 28, 28) in [-1, 1]; the same request gives the same images on every run.
    `settings`: the family's sampler settings (Family.sampler_cls), for families that have them.

    The latents come from a CPU generator, so they are identical on every device; the images then
    agree across devices up to floating-point rounding."""
    check_class(model, request.digit)
    generator = torch.Generator().manual_seed(request.seed)
    with base.evaluating(model):
        extra = {} if settings is None else {"settings": settings}
        return model.sample(request.n, generator=generator,
                            labels=labels_for(request.n, request.digit, classes_of(model)),
                            truncation=request.truncation, **extra).cpu()


@dataclass(frozen=True)
class InterpolationRequest:
    digit: int
    seed_a: int
    seed_b: int
    steps: int
    truncation: Optional[float]


def interpolation_request(digit, seed_a, seed_b, steps, truncation=None) -> InterpolationRequest:
    first = digit_request(digit, 1, seed_a, truncation)
    if first.digit is None:
        raise RequestError("interpolation needs one digit, 0-9 (not 'mix')")
    return InterpolationRequest(first.digit, first.seed, check_seed(seed_b, "seed B"),
                                _integer("steps", steps, *INTERPOLATION_STEPS), first.truncation)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985) between rows a (1, D) and b (1, D) at t (S, 1).

    Gaussian latents live near a sphere, so the straight line between two of them passes through
    atypically short vectors; the great-circle path keeps the norm typical.
    """
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1 + 1e-6, 1 - 1e-6)
    omega = torch.acos(cos)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(model, request: InterpolationRequest) -> torch.Tensor:
    """(steps, 1, 28, 28) in [-1, 1]: decoded along the great circle from seed_a's latent to seed_b's."""
    with base.evaluating(model):
        z_a, z_b = (model.latents(1, generator=torch.Generator().manual_seed(s), truncation=request.truncation)
                    for s in (request.seed_a, request.seed_b))
        t = torch.linspace(0, 1, request.steps, device=z_a.device)[:, None]
        check_class(model, request.digit)
        return model.decode(slerp(z_a, z_b, t), labels_for(request.steps, request.digit)).cpu()
