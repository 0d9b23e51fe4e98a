"""A VAE on 2-D points with a 2-D latent (Kingma & Welling 2014), so both sides can be drawn.

The encoder gives each point a diagonal gaussian posterior q(z|x) = N(mu, sigma^2) in the latent
plane (drawn as an ellipse); the decoder maps a latent z to the mean of a gaussian p(x|z) of fixed
standard deviation `decoder_std` (drawn as the latent grid's image in the data plane). The loss is
the negative ELBO: reconstruction error + beta * KL(q(z|x) || N(0, I)).
"""

import math
from dataclasses import dataclass
from typing import Dict, Tuple

import torch

from genlab.models.base import GenerativeModel
from genlab.models.playground.mlp import mlp
from genlab.params import param

LATENT_DIM = 2  # two, so the posteriors and the prior can be drawn in the plane


@dataclass
class PointVAEConfig:
    beta: float = param(1.0, "weight of the KL term (1: the true ELBO; Higgins et al. 2017 for other values)",
                        0.0, 10.0, basic=True)
    decoder_std: float = param(0.1, "standard deviation of p(x|z) around the decoder's output", 0.01, 1.0,
                               basic=True)
    width: int = param(64, "units per hidden layer of the encoder and the decoder", 4, 256)
    depth: int = param(2, "hidden layers of the encoder and the decoder", 1, 4)


class PointVAE(GenerativeModel):
    def __init__(self, config: PointVAEConfig):
        super().__init__()
        self.config = config
        self.encoder = mlp(2, config.width, config.depth, 2 * LATENT_DIM)
        self.decoder = mlp(LATENT_DIM, config.width, config.depth, 2)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """points (B, 2) -> posterior mean (B, 2) and log variance (B, 2)"""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var.clamp(-12, 6)  # keeps exp() finite while a fresh encoder is far off

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """latents (B, 2) -> the mean of p(x|z) (B, 2)"""
        return self.decoder(z)

    def loss(self, x: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
        mu, log_var = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()  # the reparameterisation trick
        s = self.config.decoder_std
        # -log N(x; decoder(z), s^2 I), summed over the 2 coordinates
        reconstruction = ((x - self.decode(z)) ** 2).sum(1) / (2 * s * s) + 2 * math.log(s * math.sqrt(2 * math.pi))
        kl = 0.5 * (mu ** 2 + log_var.exp() - 1 - log_var).sum(1)  # KL(N(mu, sigma^2) || N(0, I)), closed form
        loss = (reconstruction + self.config.beta * kl).mean()
        return loss, {"reconstruction": reconstruction.mean().item(), "kl": kl.mean().item()}

    def sample(self, n: int, *, generator: torch.Generator, labels=None, truncation=None) -> torch.Tensor:
        """z ~ N(0, I), then x ~ p(x|z): the model's own density, noise included."""
        z = torch.randn(n, LATENT_DIM, generator=generator)
        noise = torch.randn(n, 2, generator=generator) * self.config.decoder_std
        device = next(self.parameters()).device
        return self.decode(z.to(device)) + noise.to(device)
