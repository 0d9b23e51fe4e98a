"""The plug-in contract every model family fulfils.

A `Family` is data: its config, recipes and presets, and the `GenerativeModel` subclass that
holds its networks. The base class gives the verbs the training loop calls, with defaults for
the common case (one AdamW, one scalar `loss`); a family overrides only where it differs, as
the GAN does with its two optimisers.
"""

import contextlib
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Dict, Iterator, Literal, Optional, Tuple

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlab.params import MAX_SEED, param

Optimizers = Dict[str, torch.optim.Optimizer]


@dataclass(frozen=True)
class TrainConfig:
    """Training hyperparameters shared by every family (the model's own live in its config)."""

    steps: int = param(1000, "optimiser steps, one batch each", 1, 1_000_000, basic=True)
    batch_size: int = param(128, "examples per step", 1, 4096, basic=True)
    lr: float = param(2e-4, "peak learning rate", 1e-6, 1.0, basic=True)
    weight_decay: float = param(0.0, "AdamW decoupled weight decay", 0.0, 1.0)
    warmup_steps: int = param(0, "steps of linear learning-rate warm-up", 0, 100_000)
    schedule: str = param("constant", "after warm-up: constant, or cosine decay to 10% of lr",
                          choices=("constant", "cosine"))
    beta1: float = param(0.9, "Adam first-moment decay", 0.0, 0.999)
    beta2: float = param(0.999, "Adam second-moment decay", 0.0, 0.9999)
    seed: int = param(0, "seeds model init, data order and noise", 0, MAX_SEED)


class GenerativeModel(nn.Module, PyTorchModelHubMixin):
    """A family's network. Subclasses take `__init__(self, config)` with their config dataclass
    (PyTorchModelHubMixin writes it to config.json) and either `loss(batch) -> (loss, logs)` or
    their own `training_step` and `validation_step`."""

    def loss(self, batch) -> Tuple[torch.Tensor, Dict[str, float]]:
        raise NotImplementedError(f"{type(self).__name__} defines no loss")

    def configure_optimizers(self, recipe: TrainConfig) -> Optimizers:
        return {"model": torch.optim.AdamW(self.parameters(), lr=recipe.lr, betas=(recipe.beta1, recipe.beta2),
                                           weight_decay=recipe.weight_decay)}

    def training_step(self, batch, optimizers: Optimizers) -> Dict[str, float]:
        """One update; returns the values to log."""
        (optimizer,) = optimizers.values()
        loss, logs = self.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        self.backward(loss)
        optimizer.step()
        return {"loss": loss.item(), **logs}

    def backward(self, loss: torch.Tensor) -> None:
        """`loss.backward()`; training steps call this instead, so that multi-process training
        (genlab.train.distributed) can put accelerate's in its place (it scales fp16 losses)."""
        loss.backward()

    def validation_step(self, batch) -> Dict[str, float]:
        """The logged values on a held-out batch (called through `held_out_losses`)."""
        loss, logs = self.loss(batch)
        return {"loss": loss.item(), **logs}

    def finalize(self) -> None:
        """Readies trained weights for use; the loop calls it before every save."""

    def batch_options(self) -> Dict[str, object]:
        """Keywords for its dataset's `batches` that depend on this model (a text model's vocabulary)."""
        return {}

    def sample(self, n: int, *, generator: torch.Generator, labels: Optional[torch.Tensor] = None,
               truncation: Optional[float] = None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not sample")


@dataclass(frozen=True)
class Family:
    """Everything genlab needs to build, train, save and sample one kind of model."""

    name: str  # registry key, CLI choice, weights/<name>/
    title: str  # label in the UI
    output: Literal["image", "text", "label"]  # what `sample` makes ("label": a classifier, no sampling)
    model_cls: type  # a GenerativeModel subclass, __init__(self, config)
    config_cls: type  # flat dataclass of int/float/str/bool
    data: str  # which data the family trains on: "mnist" (labelled digits) or "text"
    recipe: TrainConfig  # the recipe of the shipped weights (`python -m genlab train <name>` default)
    conditional: bool = True  # image families: does `sample` honour class labels?
    extra_metrics: Tuple[str, ...] = ()  # family-specific measurements by name (see genlab.eval.metrics.EXTRA)
    quick_recipe: Optional[TrainConfig] = None  # the "quick" preset: a short run (benchmarks/train_presets.py)
    quick_config: Dict[str, object] = field(default_factory=dict)  # config overrides for "quick"
    recipe_help: Dict[str, str] = field(default_factory=dict)  # TrainConfig field -> this family's own help
    loss_names: Dict[str, str] = field(default_factory=dict)  # logged key -> name people read ("d_loss": "D loss")
    sampler_cls: Optional[type] = None  # settings `sample` takes as `settings=` (a dataclass of param fields)
    storage_dtype: str = "float32"  # of shipped weight files; "float16" keeps larger models under 10 MB


def held_out_losses(model: GenerativeModel, batch) -> Dict[str, float]:
    """`model.validation_step` in eval mode, with fixed randomness (for losses that sample) drawn
    from a forked RNG, so the training run's random stream is untouched."""
    with torch.random.fork_rng(devices=range(torch.cuda.device_count())), evaluating(model):
        torch.manual_seed(0)
        return model.validation_step(batch)


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
