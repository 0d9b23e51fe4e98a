"""The GAN family's registry entry: its config and recipes (no torch; the network is in gan.py)."""

from dataclasses import dataclass

from genlab.models.base import Family, TrainConfig
from genlab.params import param


@dataclass
class GANConfig:
    z_dim: int = param(64, "latent size", 2, 512)
    embed_dim: int = param(16, "size of the class embedding concatenated to z", 1, 256)
    g_width: int = param(32, "generator channels at 28x28 (x2 at 14x14, x4 at 7x7)", 2, 256)
    d_width: int = param(64, "discriminator channels at 14x14 (x2 at 7x7)", 2, 256)
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

FAMILY = Family(
    name="gan",
    title="GAN (class-conditional DCGAN)",
    output="image",
    implementation="genlab.models.gan",
    config_cls=GANConfig,
    data="mnist",
    # phase 1 of the shipped weights; phase 2 is `train gan --init <phase 1> --steps 6000 --schedule cosine`
    # (weights/gan/training.json)
    recipe=TrainConfig(steps=15908, batch_size=256, lr=2e-4, beta1=0.5, beta2=0.999),
    quick_recipe=TrainConfig(steps=400, batch_size=64, lr=2e-4, beta1=0.5, beta2=0.999),
    quick_config={"ema_start": 200, "ema_decay": 0.99},
    tiny={"z_dim": 8, "embed_dim": 4, "g_width": 4, "d_width": 4, "ema_start": 0},
)
