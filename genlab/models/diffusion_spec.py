"""The diffusion family's registry entry: its config and recipes (no torch; the network is in diffusion.py)."""

from dataclasses import dataclass

from genlab import schedulers
from genlab.models.base import Family, TrainConfig
from genlab.params import param


@dataclass
class DiffusionConfig:
    width: int = param(32, "UNet channels at 28x28 (x2 at 14x14 and 7x7)", 4, 256)
    layers_per_block: int = param(1, "residual blocks per resolution, each way", 1, 4)
    attention: bool = param(True, "self-attention at 7x7 (global shape at a small cost)")
    train_timesteps: int = param(1000, "noise levels of the forward process", 10, 4000)
    beta_schedule: str = param("squaredcos_cap_v2", "noise schedule: cosine (Nichol & Dhariwal) or linear (Ho et al.)",
                               choices=("squaredcos_cap_v2", "linear"))
    label_dropout: float = param(0.1, "share of labels replaced by 'no label' (enables guidance)", 0.0, 1.0)
    ema_decay: float = param(0.999, "decay of the weight average that samples use", 0.0, 0.99999)
    ema_start: int = param(500, "steps before the average starts (it copies the weights until then)", 0, 1_000_000)

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


FAMILY = Family(
    name="diffusion",
    title="Diffusion (class-conditional UNet, diffusers)",
    output="image",
    implementation="genlab.models.diffusion",
    config_cls=DiffusionConfig,
    data="mnist",
    recipe=TrainConfig(steps=7000, batch_size=64, lr=5e-4, warmup_steps=200, schedule="cosine"),
    quick_recipe=TrainConfig(steps=150, batch_size=32, lr=1e-3, warmup_steps=20),
    quick_config={"width": 16, "ema_start": 50, "ema_decay": 0.95},
    tiny={"width": 4, "ema_start": 0},
    sampler_cls=schedulers.Sampler,
)
