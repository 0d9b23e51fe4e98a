"""Peak memory of one training step, estimated before any model is built (no torch import here).

    peak = weights + gradients + optimiser moments + max(batch x activations, optimiser scratch)

- weights: every parameter and buffer of the model, counted on a `meta`-device model (moving
  averages such as the GAN's and the diffusion model's EMA copies included);
- gradients and the two Adam/AdamW moments: three more copies of every trainable parameter
  (the GAN's two optimisers each hold the moments of their own network);
- activations: what the family's config reports as `activations_per_example()`, the float32
  values autograd keeps for backward for one example, counted layer by layer from the network's
  operations; times BACKWARD_FACTOR for what backward allocates on top (the gradients of those
  activations, kernels' scratch copies) and allocator slack;
- optimiser scratch: on the CPU, Adam updates one parameter tensor at a time through two
  temporaries of its size, after backward has freed the activations.

benchmarks/train_memory.py holds every family's estimate against the measured peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

BYTES_PER_FLOAT = 4  # training runs in float32
COPIES_PER_TRAINABLE = 3  # its gradient and Adam's two moments (exp_avg, exp_avg_sq)
BACKWARD_FACTOR = 1.5  # kept activations -> peak: backward holds gradients of about half of them at once
OPTIMIZER_TEMPORARIES = 2  # Adam's denominator: sqrt(exp_avg_sq), then divided by the bias correction


@dataclass(frozen=True)
class StepMemory:
    """One training step's memory: a part every step holds and a part that grows with the batch."""

    fixed: int  # bytes: weights, gradients, optimiser moments
    per_example: int  # bytes of activations per example of the batch
    scratch: int  # bytes the optimiser step adds once activations are freed

    def total(self, batch_size: int) -> int:
        return self.fixed + max(batch_size * self.per_example, self.scratch)

    def largest_batch(self, budget: float) -> int:
        """The largest batch size whose step fits in `budget` bytes (0: not even one example)."""
        if self.fixed + max(self.per_example, self.scratch) > budget:
            return 0
        if self.per_example == 0 or math.isinf(budget):
            return 2**62
        return int((budget - self.fixed) // self.per_example)


def step_memory(model: nn.Module, config) -> StepMemory:
    """The estimate for `model` (on any device; `meta` allocates nothing) built from `config`."""
    weights = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
    trainable = [p for p in model.parameters() if p.requires_grad]
    copies = COPIES_PER_TRAINABLE * sum(p.numel() * p.element_size() for p in trainable)
    largest = max((p.numel() * p.element_size() for p in trainable), default=0)
    activations = config.activations_per_example() * BYTES_PER_FLOAT * BACKWARD_FACTOR
    return StepMemory(fixed=weights + copies, per_example=math.ceil(activations),
                      scratch=OPTIMIZER_TEMPORARIES * largest)


def readable(size: float, digits: int = 1) -> str:
    """Bytes for people: '8.9 GB', '350 MB'."""
    return f"{size / 1e9:.{digits}f} GB" if size >= 1e9 else f"{size / 1e6:.{digits - 1}f} MB"
