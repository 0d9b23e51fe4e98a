"""The VAE family's registry entry: its config and recipes (no torch; the network is in vae.py)."""

from dataclasses import dataclass

from genlab.models.base import Family, TrainConfig
from genlab.params import param


@dataclass
class VAEConfig:
    latent_dim: int = param(16, "size of the latent code z", 2, 128)
    width: int = param(32, "channels at 14x14 (x2 at 7x7), encoder and decoder alike", 4, 256)
    hidden: int = param(512, "units of the dense layer between the convolutions and z", 16, 2048)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate): each
        layer's output before and after SiLU, encoder and decoder alike, (w, 14, 14), (2w, 7, 7)
        and the dense layer; the digit, its binarised copy and the decoder's logits and target."""
        w = self.width
        maps = 2 * (w * 196 + 2 * w * 49) + 2 * self.hidden  # one way
        return 2 * maps + 4 * 784


FAMILY = Family(
    name="vae",
    title="VAE (convolutional, Bernoulli decoder)",
    output="image",
    implementation="genlab.models.vae",
    config_cls=VAEConfig,
    data="mnist",
    recipe=TrainConfig(steps=30000, batch_size=128, lr=1e-3, warmup_steps=500, schedule="cosine"),
    quick_recipe=TrainConfig(steps=500, batch_size=128, lr=2e-3, warmup_steps=50, schedule="cosine"),
    tiny={"latent_dim": 2, "width": 4, "hidden": 16},
    conditional=False,
    extra_metrics=("likelihood",),
    storage_dtype="float16",  # 3.3M parameters: 13 MB in float32, 6.6 MB in float16
)
