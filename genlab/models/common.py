"""The torch side of the family contract: each family module ends in IMPLEMENTATION = Implementation(...).

Also the defaults most families share (one AdamW, one scalar loss) and small helpers.
"""

import contextlib
from dataclasses import dataclass
from typing import Callable, ContextManager, Dict, Iterator, Optional

import torch
from torch import nn

from genlab.models.base import TrainConfig

Optimizers = Dict[str, torch.optim.Optimizer]


@dataclass(frozen=True)
class Implementation:
    """The code of one family; genlab.models.base.Family finds it by module name."""

    model_cls: type  # nn.Module + PyTorchModelHubMixin, __init__(self, config)
    optimizers: Optional[Callable[[nn.Module, TrainConfig], Optimizers]] = None
    train_step: Optional[Callable[[nn.Module, object, Optimizers], Dict[str, float]]] = None
    held_out: Optional[Callable[[nn.Module, object], Dict[str, float]]] = None  # losses on unseen data
    finalize: Optional[Callable[[nn.Module], None]] = None  # readies weights for use before each save

    def make_optimizers(self, model: nn.Module, recipe: TrainConfig) -> Optimizers:
        return (self.optimizers or adamw)(model, recipe)

    def step(self, model: nn.Module, batch, optimizers: Optimizers) -> Dict[str, float]:
        return (self.train_step or single_loss_step)(model, batch, optimizers)

    def evaluate(self, model: nn.Module, batch) -> Dict[str, float]:
        """The logged losses on a held-out batch, in eval mode, with fixed randomness (for losses
        that sample) drawn from a forked RNG, so the training run's random stream is untouched."""
        with torch.random.fork_rng(devices=range(torch.cuda.device_count())), evaluating(model):
            torch.manual_seed(0)
            return (self.held_out or single_loss_values)(model, batch)


def adamw(model: nn.Module, recipe: TrainConfig) -> Dict[str, torch.optim.Optimizer]:
    return {"model": torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(recipe.beta1, recipe.beta2),
                                       weight_decay=recipe.weight_decay)}


def single_loss_step(model: nn.Module, batch, optimizers) -> Dict[str, float]:
    """One optimiser, one scalar: `model.loss(batch)` returns (loss, {name: float}) for logging."""
    (optimizer,) = optimizers.values()
    loss, logs = model.loss(batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), **logs}


def single_loss_values(model: nn.Module, batch) -> Dict[str, float]:
    loss, logs = model.loss(batch)
    return {"loss": loss.item(), **logs}


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no autograd for the block, restoring the previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def advanced_within(context: Callable[[], ContextManager], steps: Iterator) -> Iterator:
    """Yield from `steps`, advancing it inside a fresh `context()` each time.

    torch's inference_mode and no_grad are per thread, and Gradio resumes and closes a streaming
    handler on whichever worker thread is free: a mode entered before a `yield` and left after it
    stays switched on in one thread and is switched off in another. Here no mode spans a `yield`.
    """
    try:
        while True:
            with context():
                try:
                    item = next(steps)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            with context():
                close()


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def latent_noise(shape, generator: torch.Generator, device: torch.device,
                 truncation: Optional[float] = None) -> torch.Tensor:
    """Standard normal noise drawn on the CPU generator (same seed, same noise on every device).

    `truncation` t redraws from N(0, 1) restricted to [-t, t] (the truncation trick of
    Brock et al. 2019, BigGAN): lower t trades variety for typical, cleaner samples.
    """
    z = torch.empty(shape)
    if truncation is None:
        z.normal_(generator=generator)
    else:
        nn.init.trunc_normal_(z, mean=0.0, std=1.0, a=-truncation, b=truncation, generator=generator)
    return z.to(device)
