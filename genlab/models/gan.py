"""Class-conditional GAN for 28x28 digits.

Networks (genlab.models.gan_networks): "dcgan", the shipped default, pairs a DCGAN-style generator
(Radford et al. 2016) with a spectrally normalised discriminator (Miyato et al. 2018) that scores
the class with a projection head (Miyato & Koyama 2018); "dense" is the article's fully connected
pair. Objective (genlab.models.gan_losses): the non-saturating loss of Goodfellow et al. 2014 by
default. Samples come from an exponential moving average of the generator weights (Yazici et al.
2019), which removes most of the step-to-step jitter of GAN training.
"""

import copy
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import nn

from genlab.models import ema
from genlab.models.base import Family, GenerativeModel, TrainConfig, latent_noise, model_device
from genlab.models.gan_losses import OBJECTIVES
from genlab.models.gan_networks import ARCHITECTURES
from genlab.params import param


@dataclass
class GANConfig:
    z_dim: int = param(64, "latent size", 2, 512)
    embed_dim: int = param(16, "size of the class embedding concatenated to z", 1, 256)
    g_width: int = param(32, "dcgan: generator channels at 28x28 (x2 at 14x14, x4 at 7x7)", 2, 256, basic=True)
    d_width: int = param(64, "dcgan: discriminator channels at 14x14 (x2 at 7x7)", 2, 256, basic=True)
    ema_decay: float = param(0.999, "decay of the generator's weight average (samples use the average)", 0.0, 0.99999)
    ema_start: int = param(1000, "steps before the average starts (it copies the weights until then)", 0, 1_000_000)
    architecture: str = param("dcgan", "networks: dcgan (convolutional, spectral norm; shipped) or dense "
                              "(the article's one-hidden-layer MLPs, 784 tanh pixels out)",
                              choices=tuple(ARCHITECTURES))
    dense_hidden: int = param(128, "dense: hidden units of the generator and of the discriminator", 8, 2048)
    objective: str = param("non-saturating", "GAN loss (non-saturating: the shipped one); article = the article's "
                           "listing as written, which does not learn digits", choices=tuple(OBJECTIVES))
    latent: str = param("normal", "distribution of z: normal N(0, 1) (shipped) or uniform U[-1, 1] (the article)",
                        choices=("normal", "uniform"))
    classes: int = param(10, "number of classes (from the training data)", 1, 100, derived=True)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate)."""
        return ARCHITECTURES[self.architecture].activations(self)


def _uniform(shape, generator: Optional[torch.Generator], device, bound: float = 1.0) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=device).mul_(2 * bound).sub_(bound)


# z's distribution by the config's `latent`: (shape, generator or None, device) -> z; the training
# step passes no generator (it draws from the global, seeded RNG on the model's device)
LATENTS: Dict[str, Callable[..., torch.Tensor]] = {
    "normal": lambda shape, generator, device: torch.randn(shape, generator=generator, device=device),
    "uniform": _uniform,
}


class GAN(GenerativeModel):
    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        networks = ARCHITECTURES[config.architecture]
        self.generator = networks.generator(config)
        self.discriminator = networks.discriminator(config)
        self.objective = OBJECTIVES[config.objective]
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
            z = self._noise((batch_size, self.config.z_dim), noise).to(device)
            g(z, torch.randint(0, self.config.classes, (batch_size,), generator=noise).to(device))
        g.train(was_training)
        for m, momentum in zip(norms, saved):
            m.momentum = momentum

    def sample(self, n: int, *, generator: torch.Generator, labels: Optional[torch.Tensor] = None,
               truncation: Optional[float] = None) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [-1, 1]; labels (n,) default to 0..classes-1 repeating."""
        z = self.latents(n, generator=generator, truncation=truncation)
        return self.decode(z, labels)

    def latents(self, n: int, *, generator: torch.Generator, truncation: Optional[float] = None) -> torch.Tensor:
        """(n, z_dim) drawn on the CPU generator. Truncation t restricts z to [-t, t]: for a uniform
        latent that is U[-min(t, 1), min(t, 1)], the same restriction as the normal's."""
        shape, device = (n, self.config.z_dim), model_device(self)
        if self.config.latent == "uniform":
            return _uniform(shape, generator, None, 1.0 if truncation is None else min(truncation, 1.0)).to(device)
        return latent_noise(shape, generator, device, truncation)

    def _noise(self, shape, generator: Optional[torch.Generator] = None, device=None) -> torch.Tensor:
        return LATENTS[self.config.latent](shape, generator, device)

    def decode(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        device = model_device(self)
        if labels is None:
            labels = torch.arange(len(z)) % self.config.classes
        return self.generator_ema(z.to(device), labels.to(device))

    def configure_optimizers(self, recipe: TrainConfig) -> Dict[str, torch.optim.Optimizer]:
        betas = (recipe.beta1, recipe.beta2)
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=recipe.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=recipe.lr, betas=betas)}

    def training_step(self, batch: Tuple[torch.Tensor, torch.Tensor],
                      optimizers: Dict[str, torch.optim.Optimizer]) -> Dict[str, float]:
        """One discriminator and one generator update with the config's objective."""
        real, labels = batch
        b = len(real)
        z = self._noise((b, self.config.z_dim), device=real.device)
        fake_labels = torch.randint(0, self.config.classes, (b,), device=real.device)
        fake = self.generator(z, fake_labels)

        d_real = self.discriminator(real, labels)
        d_fake = self.discriminator(fake.detach(), fake_labels)
        d_loss = self.objective.discriminator(d_real, d_fake)
        optimizers["discriminator"].zero_grad(set_to_none=True)
        self.backward(d_loss)
        optimizers["discriminator"].step()

        # D is frozen during G's update so backward skips D's weight gradients, which G's update never uses
        self.discriminator.requires_grad_(False)
        g_loss = self.objective.generator(self.discriminator(fake, fake_labels))
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
        z = self._noise((len(real), self.config.z_dim), noise).to(real.device)
        fake_labels = torch.randint(0, self.config.classes, (len(real),), generator=noise).to(real.device)
        d_real = self.discriminator(real, labels)
        d_fake = self.discriminator(self.generator(z, fake_labels), fake_labels)
        return _logs(self.objective.discriminator(d_real, d_fake), self.objective.generator(d_fake), d_real, d_fake)


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
