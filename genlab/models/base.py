"""The plug-in contract every model family fulfils: what the family is, without torch.

A Family is data (its config, recipes and presets); its networks and training step live in
the module it names (`implementation`), imported on first use. The app builds every form from
Family data alone, so it serves its page before torch has loaded (`python app.py` start-up).
"""

import importlib
from dataclasses import dataclass, field
from typing import Dict, Literal, Optional, Tuple

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
    implementation: str  # the module whose IMPLEMENTATION (genlab.models.common) holds the torch code
    config_cls: type  # flat dataclass of int/float/str/bool
    data: str  # which data the family trains on: "mnist" (labelled digits) or "text"
    recipe: TrainConfig  # the recipe of the shipped weights (`python -m genlab train <name>` default)
    conditional: bool = True  # image families: does `sample` honour class labels?
    extra_metrics: Tuple[str, ...] = ()  # family-specific measurements by name (see genlab.metrics.EXTRA)
    quick_recipe: Optional[TrainConfig] = None  # the "quick" preset: about a minute on 2 CPU cores
    quick_config: Dict[str, object] = field(default_factory=dict)  # config overrides for "quick"
    tiny: Dict[str, object] = field(default_factory=dict)  # config overrides for fast tests
    sampler_cls: Optional[type] = None  # settings `sample` takes as `settings=` (a dataclass of param fields)
    storage_dtype: str = "float32"  # of shipped weight files; "float16" keeps larger models under 10 MB

    @property
    def _code(self):
        """The family's genlab.models.common.Implementation (imports torch on first use)."""
        return importlib.import_module(self.implementation).IMPLEMENTATION

    @property
    def model_cls(self) -> type:
        """nn.Module + PyTorchModelHubMixin, __init__(self, config)."""
        return self._code.model_cls

    @property
    def finalize(self):
        """Readies weights for use before each save (None: nothing to do)."""
        return self._code.finalize

    def make_optimizers(self, model, recipe: TrainConfig) -> dict:
        return self._code.make_optimizers(model, recipe)

    def step(self, model, batch, optimizers) -> Dict[str, float]:
        return self._code.step(model, batch, optimizers)

    def evaluate(self, model, batch) -> Dict[str, float]:
        return self._code.evaluate(model, batch)
