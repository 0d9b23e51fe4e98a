"""The judge family's registry entry: its config and recipes (no torch; the network is in judge.py)."""

from dataclasses import dataclass

from genlab.models.base import Family, TrainConfig
from genlab.params import param


@dataclass
class JudgeConfig:
    width: int = param(32, "channels of the first conv block (doubled in the second)", 2, 256)
    feature_dim: int = param(128, "size of the feature layer used for FID", 2, 1024)
    dropout: float = param(0.3, "dropout before the classification head", 0.0, 0.9)
    max_shift: int = param(2, "random translation (pixels) of training digits", 0, 4)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate)."""
        w = self.width
        # each block: two convolutions' outputs before and after BatchNorm (4 maps), max-pool indices
        # (int64: 2 floats each) and output; (w, 28, 28) -> (w, 14, 14), then (2w, 14, 14) -> (2w, 7, 7)
        blocks = (4 * w * 784 + 2 * w * 196) + (4 * 2 * w * 196 + 2 * 2 * w * 49) + w * 196 + 2 * w * 49
        return 784 + blocks + 3 * self.feature_dim + 20  # the shifted digit; features, dropout noise; logits


FAMILY = Family(
    name="judge",
    title="Judge (MNIST classifier)",
    output="label",
    implementation="genlab.models.judge",
    config_cls=JudgeConfig,
    data="mnist",
    recipe=TrainConfig(steps=2500, batch_size=128, lr=2e-3, weight_decay=1e-4, warmup_steps=200,
                       schedule="cosine"),
    quick_recipe=TrainConfig(steps=300, batch_size=128, lr=2e-3, weight_decay=1e-4, warmup_steps=30,
                             schedule="cosine"),
    tiny={"width": 4, "feature_dim": 8},
)
