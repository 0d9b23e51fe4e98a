"""Convolutional VAE with a Bernoulli decoder for 28x28 digits (Kingma & Welling 2014).

Trained on dynamically binarised digits: each step draws x ~ Bernoulli(pixel intensity), the
standard protocol for reporting MNIST likelihoods. The decoder outputs Bernoulli logits; the UI
shows their means. The encoder outputs a diagonal Gaussian q(z|x); z = mu + sigma * eps is the
reparameterisation trick that lets gradients flow through the sample.
"""

import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlab.models.common import Implementation, latent_noise, model_device
from genlab.models.vae_spec import VAEConfig

LOG_2PI = math.log(2 * math.pi)


class VAE(nn.Module, PyTorchModelHubMixin):
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


IMPLEMENTATION = Implementation(model_cls=VAE)
