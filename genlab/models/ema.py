"""Exponential moving averages of weights, the copies the GAN and diffusion models sample from.

The averaging itself is torch's own EMA update (torch.optim.swa_utils.get_ema_multi_avg_fn, the
one AveragedModel uses); the averaged copy stays a plain submodule so its weights keep their
names in model.safetensors.
"""

import torch
from torch import nn
from torch.optim.swa_utils import get_ema_multi_avg_fn


@torch.no_grad()
def update(average: nn.Module, live: nn.Module, *, decay: float, start: int, steps: torch.Tensor,
           copy_buffers: bool = False) -> None:
    """One step after an optimiser update: average <- decay * average + (1 - decay) * live.

    For the first `start` steps the average copies the live weights (decay 0): early weights are
    noise not worth remembering. `steps` is the model's 0-d step-count buffer, counted up here.
    `copy_buffers` copies the live buffers (BatchNorm statistics) instead of averaging them.
    """
    chosen = decay if int(steps) >= start else 0.0
    get_ema_multi_avg_fn(chosen)(list(average.parameters()), list(live.parameters()), None)
    if copy_buffers:
        for kept, new in zip(average.buffers(), live.buffers()):
            kept.copy_(new)
    steps += 1
