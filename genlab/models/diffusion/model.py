"""Class-conditional denoising diffusion for 28x28 digits, on diffusers' UNet2DModel.

Training is the "simple" objective of Ho et al. 2020 (Algorithm 1): pick t uniformly, noise a
digit to x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, and regress eps with mean squared error.
The noise schedule is the cosine one of Nichol & Dhariwal 2021 (better than linear at low
resolution). Labels are replaced by a "null" class 10% of the time, so one network learns both
p(x | y) and p(x) and classifier-free guidance works (Ho & Salimans 2022). Samples come from an
exponential moving average of the weights, standard for diffusion models since Song & Ermon 2020.
"""

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from genlab.models import ema
from genlab.models.base import Family, GenerativeModel, TrainConfig
from genlab.models.diffusion import denoising, schedulers
from genlab.params import param

if TYPE_CHECKING:  # diffusers is imported on first use: it is slow to import and the first page needs none of it
    from diffusers import UNet2DModel

@dataclass
class DiffusionConfig:
    width: int = param(32, "UNet channels at 28x28 (x2 at 14x14 and 7x7)", 4, 256, basic=True)
    layers_per_block: int = param(1, "residual blocks per resolution, each way", 1, 4)
    attention: bool = param(True, "self-attention at 7x7 (global shape at a small cost)")
    train_timesteps: int = param(1000, "noise levels of the forward process", 10, 4000)
    beta_schedule: str = param("squaredcos_cap_v2", "noise schedule: cosine (Nichol & Dhariwal) or linear (Ho et al.)",
                               choices=("squaredcos_cap_v2", "linear"))
    label_dropout: float = param(0.1, "share of labels replaced by 'no label' (enables guidance)", 0.0, 1.0)
    ema_decay: float = param(0.999, "decay of the weight average that samples use", 0.0, 0.99999)
    ema_start: int = param(500, "steps before the average starts (it copies the weights until then)", 0, 1_000_000)
    classes: int = param(10, "number of classes (from the training data)", 1, 100, derived=True)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate): the UNet's
        feature maps, walked the way genlab.models.diffusion.build_unet lays out diffusers' UNet2DModel."""
        sides, channels = (28, 14, 7), (self.width, 2 * self.width, 2 * self.width)

        def resnet(c_in: int, c_out: int, side: int) -> int:  # GroupNorm input, output and SiLU output, twice
            return 3 * (c_in + c_out) * side * side

        def attention(c: int, side: int) -> int:  # GroupNorm in/out, q, k, v, output, projection in/out
            return 8 * c * side * side

        total, width = 784, self.width  # the noisy digit; conv_in's output starts the skips
        skips = [width]
        for level, (c, side) in enumerate(zip(channels, sides)):  # down: resnets, then a strided conv
            for _ in range(self.layers_per_block):
                total += resnet(width, c, side)
                total += attention(c, side) if self.attention and level == 2 else 0
                width = c
                skips.append(c)
            if level < 2:
                total += c * side * side
                skips.append(c)
        total += 2 * resnet(width, width, 7) + attention(width, 7)  # the middle block always attends
        for level, (c, side) in enumerate(zip(channels[::-1], sides[::-1])):  # up: one resnet more per level
            for _ in range(self.layers_per_block + 1):
                total += resnet(width + skips.pop(), c, side)
                total += attention(c, side) if self.attention and level == 0 else 0
                width = c
            if level < 2:
                total += c * sides[1 - level] ** 2  # nearest upsampling's output, read by a conv
        return total + 3 * self.width * 784  # the output GroupNorm, SiLU and conv_out's inputs


IMAGE_SHAPE = (1, 28, 28)  # two halvings: 28 -> 14 -> 7, so no padding is needed


def build_unet(c: DiffusionConfig) -> "UNet2DModel":
    from diffusers import UNet2DModel

    attn = c.attention
    return UNet2DModel(
        sample_size=IMAGE_SHAPE[1], in_channels=1, out_channels=1,
        block_out_channels=(c.width, 2 * c.width, 2 * c.width), layers_per_block=c.layers_per_block,
        down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D" if attn else "DownBlock2D"),
        up_block_types=("AttnUpBlock2D" if attn else "UpBlock2D", "UpBlock2D", "UpBlock2D"),
        norm_num_groups=math.gcd(c.width, 8), attention_head_dim=2 * c.width,  # one head over 49 positions
        num_class_embeds=c.classes + 1,  # row `classes` means "no label"
    )


class Diffusion(GenerativeModel):
    def __init__(self, config: DiffusionConfig):
        super().__init__()
        self.config = config
        self.null_label = config.classes  # the label that asks for no particular class
        self.unet = build_unet(config)
        self.unet_ema = copy.deepcopy(self.unet).requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.forward_process = schedulers.make_scheduler(self.scheduler_config(), "ddpm")  # noises training digits

    def scheduler_config(self) -> dict:
        """The forward process every sampler is built from.

        "leading" spacing starts few-step solvers one stride below t = T. The cosine schedule's last
        noise levels have abar_t near 0 (2e-9 at t = 999), where the clean-image guess
        (x_t - sqrt(1 - abar) eps) / sqrt(abar) multiplies any error in eps by 1/sqrt(abar), about
        20,000, so DPM-Solver++ started at t = 999 makes noise (README, "Design choices, measured")."""
        return {"num_train_timesteps": self.config.train_timesteps, "beta_schedule": self.config.beta_schedule,
                "prediction_type": "epsilon", "clip_sample": True, "timestep_spacing": "leading"}

    def loss(self, batch: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, Dict[str, float]]:
        return self.noise_loss(batch, self.unet), {}

    def noise_loss(self, batch: Tuple[torch.Tensor, torch.Tensor], unet: "UNet2DModel") -> torch.Tensor:
        """The denoising objective of `unet` (the live weights or their average) on one batch."""
        images, labels = batch  # (B, 1, 28, 28) in [-1, 1], (B,)
        b = len(images)
        drop = torch.rand(b, device=images.device) < self.config.label_dropout
        labels = torch.where(drop, torch.full_like(labels, self.null_label), labels)
        t = torch.randint(0, self.config.train_timesteps, (b,), device=images.device)
        eps = torch.randn_like(images)
        noisy = self.forward_process.add_noise(images, eps, t)  # sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps
        return F.mse_loss(unet(noisy, t, class_labels=labels).sample, eps)

    def training_step(self, batch, optimizers) -> Dict[str, float]:
        logs = super().training_step(batch, optimizers)
        ema.update(self.unet_ema, self.unet, decay=self.config.ema_decay, start=self.config.ema_start,
                   steps=self.steps)
        return logs

    def validation_step(self, batch) -> Dict[str, float]:
        """The loss of the averaged weights (the ones that sample) on unseen digits."""
        return {"loss": self.noise_loss(batch, self.unet_ema).item()}

    def denoise(self, labels: torch.Tensor, *, generator: torch.Generator,
                settings: schedulers.SamplerSettings = schedulers.SamplerSettings()):
        """Frames of denoising len(labels) digits; labels (n,) hold classes or `null_label` (unconditional)."""
        scheduler = schedulers.make_scheduler(self.scheduler_config(), settings.scheduler)
        return denoising.trajectory(self.unet_ema, scheduler, labels, null=self.null_label, shape=IMAGE_SHAPE,
                                    generator=generator, steps=settings.steps, guidance=settings.guidance)

    def sample(self, n: int, *, generator: torch.Generator, labels: Optional[torch.Tensor] = None,
               truncation: Optional[float] = None, settings: schedulers.SamplerSettings = schedulers.SamplerSettings()) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [-1, 1] with `settings` (the metrics' sampler by default);
        labels (n,) default to the classes repeating. There is no latent to truncate: `truncation` is ignored."""
        if labels is None:
            labels = torch.arange(n) % self.config.classes
        return denoising.final(self.denoise(labels, generator=generator, settings=settings)).noisy.clamp(-1, 1)


FAMILY = Family(
    name="diffusion",
    title="Diffusion (class-conditional UNet, diffusers)",
    output="image",
    model_cls=Diffusion,
    config_cls=DiffusionConfig,
    data="mnist",
    recipe=TrainConfig(steps=7000, batch_size=64, lr=5e-4, warmup_steps=200, schedule="cosine"),
    quick_recipe=TrainConfig(steps=150, batch_size=32, lr=1e-3, warmup_steps=20),
    quick_config={"width": 16, "ema_start": 50, "ema_decay": 0.95},
    recipe_help={"steps": "optimiser steps, one batch of digits each",
                 "batch_size": "digits per step, each noised to a random level"},
    loss_names={"loss": "noise MSE"},
    sampler_cls=schedulers.SamplerSettings,
)
