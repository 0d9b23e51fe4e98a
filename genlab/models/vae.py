"""Convolutional VAE with a Bernoulli decoder for 28x28 digits (Kingma & Welling 2014).

Trained on dynamically binarised digits: each step draws x ~ Bernoulli(pixel intensity), the
standard protocol for reporting MNIST likelihoods. The decoder outputs Bernoulli logits; the UI
shows their means. The encoder outputs a diagonal Gaussian q(z|x); z = mu + sigma * eps is the
reparameterisation trick that lets gradients flow through the sample.
"""

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.data import mnist
from genlab.models.base import Family, GenerativeModel, TrainConfig, evaluating, latent_noise, model_device
from genlab.models.sampling import INTERPOLATION_STEPS, slerp
from genlab.params import check_value, param


@dataclass
class VAEConfig:
    latent_dim: int = param(16, "size of the latent code z", 2, 128, basic=True)
    width: int = param(32, "channels at 14x14 (x2 at 7x7), encoder and decoder alike", 4, 256, basic=True)
    hidden: int = param(512, "units of the dense layer between the convolutions and z", 16, 2048)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate): each
        layer's output before and after SiLU, encoder and decoder alike, (w, 14, 14), (2w, 7, 7)
        and the dense layer; the digit, its binarised copy and the decoder's logits and target."""
        w = self.width
        maps = 2 * (w * 196 + 2 * w * 49) + 2 * self.hidden  # one way
        return 2 * maps + 4 * 784


LOG_2PI = math.log(2 * math.pi)


class VAE(GenerativeModel):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        w, flat = config.width, 2 * config.width * 49
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.SiLU(),  # 14x14
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.SiLU(),  # 7x7
            nn.Flatten(), nn.Linear(flat, config.hidden), nn.SiLU(),
            nn.Linear(config.hidden, 2 * config.latent_dim),  # (mu, log variance)
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.SiLU(), nn.Linear(config.hidden, flat), nn.SiLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.SiLU(),  # 14x14
            nn.ConvTranspose2d(w, 1, 4, 2, 1),  # 28x28 Bernoulli logits
        )

    def encode(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """images (B, 1, 28, 28) in [-1, 1] -> mu, log variance, each (B, latent_dim)"""
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent_dim) -> Bernoulli logits (B, 1, 28, 28)"""
        return self.decoder(z)

    def decode(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """z (B, latent_dim) -> decoder means as images (B, 1, 28, 28) in [-1, 1] (labels: unused)"""
        return torch.sigmoid(self.decode_logits(z.to(model_device(self)))) * 2 - 1

    def latents(self, n: int, *, generator: torch.Generator, truncation: Optional[float] = None) -> torch.Tensor:
        return latent_noise((n, self.config.latent_dim), generator, model_device(self), truncation)

    def sample(self, n: int, *, generator: torch.Generator, labels: Optional[torch.Tensor] = None,
               truncation: Optional[float] = None) -> torch.Tensor:
        """n decoded prior samples (n, 1, 28, 28) in [-1, 1]; the VAE is unconditional, labels are ignored."""
        return self.decode(self.latents(n, generator=generator, truncation=truncation))

    def elbo_terms(self, binary: torch.Tensor, eps: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Per-image reconstruction log-likelihood and KL (nats) for binary digits (B, 1, 28, 28) in {0, 1}."""
        mu, logvar = self.encode(binary * 2 - 1)
        z = mu + (0.5 * logvar).exp() * eps  # reparameterisation: gradients reach mu and sigma
        logits = self.decode_logits(z)
        recon = -F.binary_cross_entropy_with_logits(logits, binary, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)  # KL(q(z|x) || N(0, I)), closed form
        return {"recon": recon, "kl": kl, "elbo": recon - kl}

    def loss(self, batch) -> Tuple[torch.Tensor, Dict[str, float]]:
        images, _ = batch
        binary = torch.bernoulli((images + 1) / 2)  # dynamic binarisation, fresh every step
        eps = torch.randn(len(images), self.config.latent_dim, device=images.device)
        terms = self.elbo_terms(binary, eps)
        return -terms["elbo"].mean(), {"recon": -terms["recon"].mean().item(), "kl": terms["kl"].mean().item()}

    def importance_log_likelihood(self, binary: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
        """log p(x) per image by importance sampling with q(z|x) as proposal (Burda et al. 2016), k samples.

        log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k; a lower bound that
        tightens as k grows (k = 1 gives the ELBO).
        """
        mu, logvar = self.encode(binary * 2 - 1)
        b, d = mu.shape
        eps = torch.randn(k, b, d, generator=generator).to(mu.device)  # (k, B, D)
        z = mu + (0.5 * logvar).exp() * eps
        logits = self.decode_logits(z.reshape(k * b, d)).reshape(k, b, -1)
        target = binary.flatten(1).expand(k, -1, -1)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(2)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(2)
        log_qz = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(2)
        return torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(k)


# Working in the latent space. Working in a VAE's latent space: encode digits, interpolate, and map the space onto a plane.
#
# The map is exact when the latent is 2-D; otherwise it is the plane of the first two principal
# components of the test set's encodings (fixed per model, so the same digit lands in the same
# place every time).

INTERPOLATION_MODES = ("spherical", "linear")


def encode(model, images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 -> posterior means (N, latent_dim) on the CPU."""
    with evaluating(model):
        batches = [model.encode(chunk.to(model_device(model)))[0].cpu()
                   for chunk in mnist.to_tensor(images).split(1000)]
    return torch.cat(batches)


def reconstruct(model, images: np.ndarray) -> torch.Tensor:
    """Decoder means for the posterior means of (N, 28, 28) uint8 digits: (N, 1, 28, 28) in [-1, 1]."""
    with evaluating(model):
        return model.decode(encode(model, images)).cpu()


def check_path(steps, mode) -> Tuple[int, str]:
    """Validated (steps, mode) of an interpolation request."""
    steps = check_value("steps", steps, int, *INTERPOLATION_STEPS)
    return steps, check_value("interpolation", mode, str, choices=INTERPOLATION_MODES)


def path(z_a: torch.Tensor, z_b: torch.Tensor, steps, mode: str) -> torch.Tensor:
    """`steps` latents from z_a to z_b (each (1, D)): straight ('linear') or great-circle ('spherical')."""
    steps, mode = check_path(steps, mode)
    t = torch.linspace(0, 1, steps)[:, None]
    return slerp(z_a, z_b, t) if mode == "spherical" else (1 - t) * z_a + t * z_b


@dataclass(frozen=True)
class Plane:
    """An affine 2-D view of the latent space: z = origin + u * axes[0] + v * axes[1]."""

    origin: torch.Tensor  # (D,)
    axes: torch.Tensor  # (2, D), orthonormal
    spread: torch.Tensor  # (2,), standard deviation of the test encodings along each axis
    exact: bool  # the latent is 2-D: the plane is the whole space

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, 2)"""
        return (z - self.origin) @ self.axes.T

    def lift(self, uv: torch.Tensor) -> torch.Tensor:
        """(N, 2) -> (N, D): the latent at plane coordinates uv (the mean along unseen directions)."""
        return self.origin + uv @ self.axes


def plane_of(encodings: torch.Tensor) -> Plane:
    """The exact plane for 2-D latents, else the top-two principal components of the encodings."""
    z = encodings.double()
    d = z.shape[1]
    if d == 2:
        origin, axes = torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)
    else:
        origin = z.mean(0)
        _, vectors = torch.linalg.eigh(torch.cov((z - origin).T))
        axes = vectors[:, [-1, -2]].T  # largest variance first
        axes = axes * torch.sign(axes[:, :1] + 1e-12)  # fix the sign so the map never flips
    spread = ((z - origin) @ axes.T).std(0)
    return Plane(origin.float(), axes.float(), spread.float(), d == 2)


def manifold(model, plane: Plane, size: int = 15, extent: float = 2.5) -> torch.Tensor:
    """Decode a size x size grid over the plane, +-`extent` standard deviations: (size^2, 1, 28, 28)."""
    ticks = torch.linspace(-extent, extent, size)
    v, u = torch.meshgrid(-ticks, ticks, indexing="ij")  # rows top to bottom = v descending, like a plot
    uv = torch.stack([u.reshape(-1) * plane.spread[0], v.reshape(-1) * plane.spread[1]], dim=1)
    with evaluating(model):
        return model.decode(plane.lift(uv)).cpu()


def grid_position(plane: Plane, uv: torch.Tensor, size: int = 15, extent: float = 2.5) -> Optional[tuple]:
    """Row and column of the manifold grid nearest to plane coordinates uv (2,), or None when outside."""
    scaled = uv / plane.spread / extent  # -1..1 inside the grid
    if scaled.abs().max() > 1:
        return None
    col = int(round((float(scaled[0]) + 1) / 2 * (size - 1)))
    row = int(round((1 - float(scaled[1])) / 2 * (size - 1)))
    return row, col


FAMILY = Family(
    name="vae",
    title="VAE (convolutional, Bernoulli decoder)",
    output="image",
    model_cls=VAE,
    config_cls=VAEConfig,
    data="mnist",
    recipe=TrainConfig(steps=30000, batch_size=128, lr=1e-3, warmup_steps=500, schedule="cosine"),
    quick_recipe=TrainConfig(steps=500, batch_size=128, lr=2e-3, warmup_steps=50, schedule="cosine"),
    conditional=False,
    extra_metrics=("likelihood",),
    recipe_help={"steps": "optimiser steps, one batch of digits each", "batch_size": "digits per step"},
    loss_names={"loss": "-ELBO", "recon": "reconstruction", "kl": "KL"},
    storage_dtype="float16",  # halves the shipped file; float16 keeps its digits
)
