"""Class-conditional DCGAN for 28x28 digits.

Generator: DCGAN-style transposed convolutions (Radford et al. 2016) fed with [z, class embedding].
Discriminator: strided convolutions with spectral normalisation (Miyato et al. 2018) and a
projection head for the class (Miyato & Koyama 2018): D(x, y) = psi(h) + <embed(y), h>.
Loss: the non-saturating GAN loss of Goodfellow et al. 2014. Samples come from an exponential
moving average of the generator weights (Yazici et al. 2019), which removes most of the
step-to-step jitter of GAN training.
"""

import copy
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genlab.models import ema
from genlab.models.base import Family, GenerativeModel, TrainConfig, latent_noise, model_device
from genlab.params import param


@dataclass
class GANConfig:
    z_dim: int = param(64, "latent size", 2, 512)
    embed_dim: int = param(16, "size of the class embedding concatenated to z", 1, 256)
    g_width: int = param(32, "generator channels at 28x28 (x2 at 14x14, x4 at 7x7)", 2, 256, basic=True)
    d_width: int = param(64, "discriminator channels at 14x14 (x2 at 7x7)", 2, 256, basic=True)
    ema_decay: float = param(0.999, "decay of the generator's weight average (samples use the average)", 0.0, 0.99999)
    ema_start: int = param(1000, "steps before the average starts (it copies the weights until then)", 0, 1_000_000)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate), at the step's
        peak: the generator's update, after the discriminator's (whose freed memory the allocator keeps)."""
        g, d = self.g_width, self.d_width
        # generator, before and after each BatchNorm: (4g, 7, 7), (2g, 14, 14), (g, 28, 28); the tanh output
        generator = 2 * (4 * g * 49 + 2 * g * 196 + g * 784) + 784
        # discriminator: the digit, (d, 14, 14) and (2d, 7, 7) activations, the class embedding it projects onto
        discriminator = 784 + d * 196 + 2 * 2 * d * 49
        # the generator's graph lives through both updates; D scores real and generated digits, then
        # the generated ones again for the generator's loss
        return generator + 3 * discriminator


N_CLASSES = 10


class Generator(nn.Module):
    def __init__(self, c: GANConfig):
        super().__init__()
        w = c.g_width
        self.embed = nn.Embedding(N_CLASSES, c.embed_dim)
        self.project = nn.Sequential(
            nn.Linear(c.z_dim + c.embed_dim, 4 * w * 7 * 7, bias=False), nn.BatchNorm1d(4 * w * 7 * 7), nn.ReLU(True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),  # 28x28
            nn.Conv2d(w, 1, 3, 1, 1), nn.Tanh(),
        )
        self.width = w

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim), labels (B,) -> images (B, 1, 28, 28) in [-1, 1]"""
        h = self.project(torch.cat([z, self.embed(labels)], dim=1))
        return self.net(h.view(-1, 4 * self.width, 7, 7))


class Discriminator(nn.Module):
    def __init__(self, c: GANConfig):
        super().__init__()
        w = c.d_width
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, w, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 14x14
            spectral_norm(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 7x7
            nn.Flatten(),
        )
        self.out = spectral_norm(nn.Linear(2 * w * 49, 1))
        self.embed = spectral_norm(nn.Embedding(N_CLASSES, 2 * w * 49))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """images (B, 1, 28, 28), labels (B,) -> realness logits (B,)"""
        h = self.net(images)  # (B, 2w*49)
        return self.out(h).squeeze(1) + (self.embed(labels) * h).sum(1)


class GAN(GenerativeModel):
    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def finalize(self, batches: int = 20, batch_size: int = 256) -> None:
        """Re-estimate the averaged generator's BatchNorm statistics from its own activations.

        During training those statistics are copied from the live generator, whose weights differ
        from the average; "standing statistics" (Brock et al. 2019) measured on the averaged weights
        fit them better (README, "Design choices, measured"). Fixed noise: deterministic, and the
        training RNG is untouched.
        """
        g = self.generator_ema
        norms = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        saved = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all batches below
        was_training = g.training
        g.train()
        noise, device = torch.Generator().manual_seed(0), model_device(self)
        for _ in range(batches):
            z = torch.randn(batch_size, self.config.z_dim, generator=noise).to(device)
            g(z, torch.randint(0, N_CLASSES, (batch_size,), generator=noise).to(device))
        g.train(was_training)
        for m, momentum in zip(norms, saved):
            m.momentum = momentum

    def sample(self, n: int, *, generator: torch.Generator, labels: Optional[torch.Tensor] = None,
               truncation: Optional[float] = None) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [-1, 1]; labels (n,) default to 0..9 repeating."""
        z = self.latents(n, generator=generator, truncation=truncation)
        return self.decode(z, labels)

    def latents(self, n: int, *, generator: torch.Generator, truncation: Optional[float] = None) -> torch.Tensor:
        return latent_noise((n, self.config.z_dim), generator, model_device(self), truncation)

    def decode(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        device = model_device(self)
        if labels is None:
            labels = torch.arange(len(z)) % N_CLASSES
        return self.generator_ema(z.to(device), labels.to(device))

    def configure_optimizers(self, recipe: TrainConfig) -> Dict[str, torch.optim.Optimizer]:
        betas = (recipe.beta1, recipe.beta2)
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=recipe.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=recipe.lr, betas=betas)}

    def training_step(self, batch: Tuple[torch.Tensor, torch.Tensor],
                      optimizers: Dict[str, torch.optim.Optimizer]) -> Dict[str, float]:
        """One discriminator and one generator update with the non-saturating loss."""
        real, labels = batch
        b = len(real)
        z = torch.randn(b, self.config.z_dim, device=real.device)
        fake_labels = torch.randint(0, N_CLASSES, (b,), device=real.device)
        fake = self.generator(z, fake_labels)

        d_real = self.discriminator(real, labels)
        d_fake = self.discriminator(fake.detach(), fake_labels)
        d_loss = discriminator_loss(d_real, d_fake)
        optimizers["discriminator"].zero_grad(set_to_none=True)
        self.backward(d_loss)
        optimizers["discriminator"].step()

        # D is frozen during G's update so backward skips D's weight gradients, which G's update never uses
        self.discriminator.requires_grad_(False)
        g_loss = generator_loss(self.discriminator(fake, fake_labels))
        optimizers["generator"].zero_grad(set_to_none=True)
        self.backward(g_loss)
        optimizers["generator"].step()
        self.discriminator.requires_grad_(True)
        # BatchNorm statistics follow the live generator; finalize() re-measures them for the average
        ema.update(self.generator_ema, self.generator, decay=self.config.ema_decay, start=self.config.ema_start,
                   steps=self.steps, copy_buffers=True)
        return _logs(d_loss, g_loss, d_real, d_fake)

    def validation_step(self, batch: Tuple[torch.Tensor, torch.Tensor]) -> Dict[str, float]:
        """Both losses on unseen real digits and fixed noise (its own generator: training RNG untouched)."""
        real, labels = batch
        noise = torch.Generator().manual_seed(0)
        z = torch.randn(len(real), self.config.z_dim, generator=noise).to(real.device)
        fake_labels = torch.randint(0, N_CLASSES, (len(real),), generator=noise).to(real.device)
        d_real = self.discriminator(real, labels)
        d_fake = self.discriminator(self.generator(z, fake_labels), fake_labels)
        return _logs(discriminator_loss(d_real, d_fake), generator_loss(d_fake), d_real, d_fake)



def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """D maximises log D(x) + log(1 - D(G(z))): on logits, softplus(-D(x)) + softplus(D(G(z)))."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating: G maximises log D(G(z)) rather than minimising log(1 - D(G(z)))."""
    return F.softplus(-d_fake).mean()


def _logs(d_loss, g_loss, d_real, d_fake) -> Dict[str, float]:
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item()}


FAMILY = Family(
    name="gan",
    title="GAN (class-conditional DCGAN)",
    output="image",
    model_cls=GAN,
    config_cls=GANConfig,
    data="mnist",
    # phase 1 of the shipped weights; phase 2 is `train gan --init <phase 1> --steps 6000 --schedule cosine`
    # (weights/gan/training.json)
    recipe=TrainConfig(steps=15908, batch_size=256, lr=2e-4, beta1=0.5, beta2=0.999),
    quick_recipe=TrainConfig(steps=400, batch_size=64, lr=2e-4, beta1=0.5, beta2=0.999),
    quick_config={"ema_start": 200, "ema_decay": 0.99},
    recipe_help={"steps": "updates: one D and one G step each",
                 "batch_size": "real digits per step (and as many generated ones)"},
    loss_names={"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(real)", "d_fake": "D(fake)"},
)
