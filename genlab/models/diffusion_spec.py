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
