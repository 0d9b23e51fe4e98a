"""What the character-level text families share: the default vocabulary and the loss."""

import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F

from genlab.params import param

# the 65 characters of tiny-shakespeare, sorted: the vocabulary a model gets when none is derived from data
SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def vocab_param():
    """The config field holding a text model's vocabulary: set from the training text, not by hand."""
    return param(SHAKESPEARE_CHARS, "the characters the model knows (set from the training text)", derived=True)


def text_loss(logits: torch.Tensor, targets: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
    """Mean next-character cross-entropy in nats; logits (B, T, V), targets (B, T). Logs bits per character."""
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return loss, {"bits/char": loss.item() / math.log(2)}
