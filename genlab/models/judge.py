"""The judge: a classifier (the shipped one reads MNIST digits) whose verdicts and features score every image family.

Its penultimate layer (`features`) plays the role Inception-v3 plays for FID on natural
images; its softmax gives the classifier inception score and class fidelity.
"""

from dataclasses import dataclass
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models.base import Family, GenerativeModel, TrainConfig
from genlab.params import param


@dataclass
class JudgeConfig:
    width: int = param(32, "channels of the first conv block (doubled in the second)", 2, 256, basic=True)
    feature_dim: int = param(128, "size of the feature layer used for FID", 2, 1024)
    dropout: float = param(0.3, "dropout before the classification head", 0.0, 0.9)
    max_shift: int = param(2, "random translation (pixels) of training digits", 0, 4)
    classes: int = param(10, "number of classes (from the training data)", 1, 100, derived=True)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward per digit (genlab.memory_estimate)."""
        w = self.width
        # each block: two convolutions' outputs before and after BatchNorm (4 maps), max-pool indices
        # (int64: 2 floats each) and output; (w, 28, 28) -> (w, 14, 14), then (2w, 14, 14) -> (2w, 7, 7)
        blocks = (4 * w * 784 + 2 * w * 196) + (4 * 2 * w * 196 + 2 * 2 * w * 49) + w * 196 + 2 * w * 49
        return 784 + blocks + 3 * self.feature_dim + 20  # the shifted digit; features, dropout noise; logits


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class Judge(GenerativeModel):
    def __init__(self, config: JudgeConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(_block(1, w), _block(w, 2 * w), nn.Flatten())  # (B, 2w*7*7)
        self.feature = nn.Sequential(nn.Linear(2 * w * 49, config.feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.feature_dim, config.classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> (B, feature_dim)"""
        return self.feature(self.body(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> logits (B, classes)"""
        return self.head(self.features(images))

    def loss(self, batch: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, Dict[str, float]]:
        images, labels = batch
        logits = self(random_shift(images, self.config.max_shift) if self.training else images)
        accuracy = (logits.argmax(1) == labels).float().mean().item()
        return F.cross_entropy(logits, labels), {"accuracy": accuracy}


def random_shift(images: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each image by up to `max_shift` pixels (zero padding = background at -1)."""
    if max_shift == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, [max_shift] * 4, value=-1.0)  # (B, 1, h+2s, w+2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b), device=images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, :, None]  # (B, h, 1)
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, :]  # (B, 1, w)
    return padded[torch.arange(b, device=images.device)[:, None, None], 0, rows, cols].unsqueeze(1)


FAMILY = Family(
    name="judge",
    title="Judge (classifier)",
    output="label",
    model_cls=Judge,
    config_cls=JudgeConfig,
    data="mnist",
    recipe=TrainConfig(steps=2500, batch_size=128, lr=2e-3, weight_decay=1e-4, warmup_steps=200,
                       schedule="cosine"),
    quick_recipe=TrainConfig(steps=300, batch_size=128, lr=2e-3, weight_decay=1e-4, warmup_steps=30,
                             schedule="cosine"),
    recipe_help={"steps": "optimiser steps, one batch of labelled digits each",
                 "batch_size": "labelled digits per step"},
    loss_names={"loss": "cross-entropy"},
)
