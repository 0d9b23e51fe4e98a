"""What the character-level text families' networks share: the loss."""

import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F


def text_loss(logits: torch.Tensor, targets: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
    """Mean next-character cross-entropy in nats; logits (B, T, V), targets (B, T). Logs bits per character."""
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return loss, {"bits/char": loss.item() / math.log(2)}
