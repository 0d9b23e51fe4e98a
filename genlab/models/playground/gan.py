"""A GAN on 2-D points: a generator maps 2-D noise to a point, a discriminator scores points.

The noise is 2-D (uniform on [-1, 1]^2) so the generator's whole job can be drawn: a grid over
the noise square, pushed through G, shows how G folds and stretches the plane onto the data.
The objective is any of genlab.models.gan_losses.OBJECTIVES, with `d_steps` discriminator
updates per generator update (the k of Algorithm 1 of Goodfellow et al. 2014).
"""

from dataclasses import dataclass
from typing import Dict, Optional

import torch
from torch.nn.utils.parametrizations import spectral_norm

from genlab.models.base import GenerativeModel, Optimizers, TrainConfig
from genlab.models.gan_losses import OBJECTIVES
from genlab.models.playground.mlp import mlp
from genlab.params import param

NOISE_DIM = 2  # two, so the noise square and its image can both be drawn
UPDATES = ("both", "discriminator", "generator")  # what one training step updates


@dataclass
class PointGANConfig:
    objective: str = param("non-saturating", "what D and G optimise (genlab.models.gan_losses)",
                           choices=tuple(OBJECTIVES), basic=True)
    d_steps: int = param(1, "discriminator updates per generator update (k)", 1, 10, basic=True)
    d_lr_scale: float = param(1.0, "discriminator learning rate as a multiple of lr (the generator's)", 0.1, 10.0,
                              basic=True)
    width: int = param(64, "units per hidden layer of G and of D", 4, 256)
    depth: int = param(2, "hidden layers of G and of D", 1, 4)
    spectral_norm: bool = param(False, "spectral normalisation of D's layers (Miyato et al. 2018): a smoother D, "
                                      "and the Lipschitz bound a Wasserstein critic needs")


class PointGAN(GenerativeModel):
    UPDATES = UPDATES  # what `update` may be

    def __init__(self, config: PointGANConfig):
        super().__init__()
        self.config = config
        self.generator = mlp(NOISE_DIM, config.width, config.depth, 2)
        self.discriminator = mlp(2, config.width, config.depth, 1,
                                 wrap=spectral_norm if config.spectral_norm else (lambda layer: layer))
        self.update = "both"  # set by the Playground's "step D" / "step G" buttons for the next step

    @property
    def objective(self):
        return OBJECTIVES[self.config.objective]

    def noise(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """(n, 2) uniform on [-1, 1]^2, from `generator` or the global RNG (training)."""
        return (torch.rand(n, NOISE_DIM, generator=generator) * 2 - 1).to(self.device)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """noise (B, 2) -> points (B, 2)"""
        return self.generator(z)

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        """points (B, 2) -> D's raw scores (B,) (logits for the non-saturating objective)"""
        return self.discriminator(x).squeeze(1)

    def sample(self, n: int, *, generator: torch.Generator, labels=None, truncation=None) -> torch.Tensor:
        return self.generate(self.noise(n, generator))

    def validation_step(self, real: torch.Tensor) -> Dict[str, float]:
        """Both losses on held-out points (B, 2) and fixed noise (its own generator: training's RNG is untouched)."""
        d_fake = self.critic(self.generate(self.noise(len(real), torch.Generator().manual_seed(0))))
        return {"d_loss": self.objective.discriminator(self.critic(real), d_fake).item(),
                "g_loss": self.objective.generator(d_fake).item()}

    def configure_optimizers(self, recipe: TrainConfig) -> Optimizers:
        betas = (recipe.beta1, recipe.beta2)
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=recipe.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=recipe.lr, betas=betas)}

    def training_step(self, real: torch.Tensor, optimizers: Optimizers) -> Dict[str, float]:
        """`d_steps` discriminator updates then one generator update (Algorithm 1 of Goodfellow et al. 2014),
        or only one side of it when `self.update` says so. Both losses are logged either way."""
        if self.update not in UPDATES:
            raise ValueError(f"update must be one of {', '.join(UPDATES)}, got {self.update!r}")
        d_optimizer, g_optimizer = optimizers["discriminator"], optimizers["generator"]
        for group in d_optimizer.param_groups:  # the loop has just set every lr to the schedule's; D's is scaled
            group["lr"] = g_optimizer.param_groups[0]["lr"] * self.config.d_lr_scale
        b = len(real)
        if self.update != "generator":
            for _ in range(self.config.d_steps):
                with torch.no_grad():
                    fake = self.generate(self.noise(b))
                d_loss = self.objective.discriminator(self.critic(real), self.critic(fake))
                d_optimizer.zero_grad(set_to_none=True)
                self.backward(d_loss)
                d_optimizer.step()
        fake = self.generate(self.noise(b))
        # D is frozen during G's update so backward skips D's weight gradients, which G's update never uses
        self.discriminator.requires_grad_(False)
        try:
            d_fake = self.critic(fake)
            g_loss = self.objective.generator(d_fake)
            if self.update != "discriminator":
                g_optimizer.zero_grad(set_to_none=True)
                self.backward(g_loss)
                g_optimizer.step()
        finally:
            self.discriminator.requires_grad_(True)
        with torch.no_grad():
            d_real = self.critic(real)
            d_loss = self.objective.discriminator(d_real, d_fake.detach())
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
