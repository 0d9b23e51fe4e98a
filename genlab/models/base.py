"""The plug-in contract every model family fulfils, and the defaults most families share."""

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, Literal, Optional, Tuple

import torch
from torch import nn

from genlab.params import param


@dataclass(frozen=True)
class TrainConfig:
    """Training hyperparameters shared by every family (the model's own live in its config)."""

    steps: int = param(1000, "optimiser steps (two-player models: one D and one G update each)", 1, 1_000_000)
    batch_size: int = param(128, "examples per step", 1, 4096)
    lr: float = param(2e-4, "peak learning rate", 1e-6, 1.0)
    weight_decay: float = param(0.0, "AdamW decoupled weight decay", 0.0, 1.0)
    warmup_steps: int = param(0, "steps of linear learning-rate warm-up", 0, 100_000)
    schedule: str = param("constant", "after warm-up: constant, or cosine decay to 10% of lr",
                          choices=("constant", "cosine"))
    beta1: float = param(0.9, "Adam first-moment decay", 0.0, 0.999)
    beta2: float = param(0.999, "Adam second-moment decay", 0.0, 0.9999)
    seed: int = param(0, "seeds model init, data order and noise", 0, 2**31 - 1)


@dataclass(frozen=True)
class Family:
    """Everything genlab needs to build, train, save and sample one kind of model."""

    name: str  # registry key, CLI choice, weights/<name>/
    title: str  # label in the UI
    output: Literal["image", "text", "label"]  # what `sample` makes ("label": a classifier, no sampling)
    model_cls: type  # nn.Module + PyTorchModelHubMixin, __init__(self, config)
    config_cls: type  # flat dataclass of int/float/str/bool
    data: str  # which data the family trains on: "mnist" (labelled digits) or "text"
    recipe: TrainConfig  # the recipe of the shipped weights (`python -m genlab train <name>` default)
    conditional: bool = True  # image families: does `sample` honour class labels?
    extra_metrics: Tuple[str, ...] = ()  # family-specific measurements by name (see genlab.metrics.EXTRA)
    quick_recipe: Optional[TrainConfig] = None  # the "quick" preset: about a minute on 2 CPU cores
    quick_config: Dict[str, object] = field(default_factory=dict)  # config overrides for "quick"
    tiny: Dict[str, object] = field(default_factory=dict)  # config overrides for fast tests
    optimizers: Optional[Callable[[nn.Module, TrainConfig], Dict[str, torch.optim.Optimizer]]] = None
    train_step: Optional[Callable[[nn.Module, object, Dict[str, torch.optim.Optimizer]], Dict[str, float]]] = None
    held_out: Optional[Callable[[nn.Module, object], Dict[str, float]]] = None  # losses on unseen data
    finalize: Optional[Callable[[nn.Module], None]] = None  # readies weights for use before each save
    sampler_cls: Optional[type] = None  # settings `sample` takes as `settings=` (a dataclass of param fields)
    storage_dtype: str = "float32"  # of shipped weight files; "float16" keeps larger models under 10 MB

    def make_optimizers(self, model: nn.Module, recipe: TrainConfig) -> Dict[str, torch.optim.Optimizer]:
        return (self.optimizers or adamw)(model, recipe)

    def step(self, model: nn.Module, batch, optimizers) -> Dict[str, float]:
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
