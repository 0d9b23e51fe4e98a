"""The one training loop: a generator of progress events that the CLI prints, the UI streams
and tests `list()`. Closing the generator stops training after the current step."""

import math
import time
from dataclasses import dataclass
from typing import Dict, Iterator

import torch
from torch import nn

from genlab.models.base import Family, TrainConfig

__all__ = ["NonFiniteLoss", "Progress", "TrainConfig", "train", "learning_rate"]


class NonFiniteLoss(FloatingPointError):
    """A loss became NaN or infinite; the weights of that step are suspect, resume from a checkpoint."""


@dataclass(frozen=True)
class Progress:
    step: int  # steps completed so far
    total: int  # steps the run will take
    losses: Dict[str, float]  # this step's logged values
    elapsed: float  # seconds since the loop started

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0

    @property
    def steps_per_second(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        rate = self.steps_per_second
        return (self.total - self.step) / rate if rate > 0 else math.inf


def learning_rate(step: int, recipe: TrainConfig) -> float:
    """Linear warm-up to `lr`, then constant or cosine decay to 10% of `lr`."""
    if step < recipe.warmup_steps:
        return recipe.lr * (step + 1) / recipe.warmup_steps
    if recipe.schedule == "cosine":
        done = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))
    return recipe.lr


def train(family: Family, model: nn.Module, batches: Iterator, recipe: TrainConfig,
          *, start_step: int = 0) -> Iterator[Progress]:
    """Train `model` (already on its device) for `recipe.steps` steps, yielding after each one."""
    if recipe.schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', not {recipe.schedule!r}")
    torch.manual_seed(recipe.seed + start_step)
    optimizers = family.make_optimizers(model, recipe)
    model.train()
    began = time.perf_counter()
    try:
        for step in range(start_step, recipe.steps):
            for optimizer in optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step, recipe)
            losses = family.step(model, next(batches), optimizers)
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                raise NonFiniteLoss(f"step {step + 1}: {', '.join(bad)} became non-finite; training stopped")
            yield Progress(step + 1, recipe.steps, losses, time.perf_counter() - began)
    finally:
        model.eval()
