"""What the character-level text families share: the default vocabulary, the loss, and keeping the
weights laid out for a decoding step."""

import math
import threading
from typing import Callable, Dict, Tuple, TypeVar

import torch
import torch.nn.functional as F

from genlab.params import param

T = TypeVar("T")

# the 65 characters of tiny-shakespeare, sorted: the vocabulary a model gets when none is derived from data
SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def vocab_param():
    """The config field holding a text model's vocabulary: set from the training text, not by hand."""
    return param(SHAKESPEARE_CHARS, "the characters the model knows (set from the training text)", derived=True)


def text_loss(logits: torch.Tensor, targets: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
    """Mean next-character cross-entropy in nats; logits (B, T, V), targets (B, T). Logs bits per character."""
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return loss, {"bits/char": loss.item() / math.log(2)}


def parameters_key(model: torch.nn.Module) -> tuple:
    """Changes when any parameter is replaced (a load, `.to`) or updated in place (an optimiser step)."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


_LAYING_OUT = threading.Lock()


def decode_layout(model: torch.nn.Module, make: Callable[[], T]) -> T:
    """`make()`: the model's weights laid out for its decoding step, made once and kept on the model
    (a plain attribute, not in its state_dict) until its parameters change (`parameters_key`)."""
    key = parameters_key(model)
    kept = model.__dict__.get("_decode_layout")
    if kept is None or kept[0] != key:
        with _LAYING_OUT, torch.no_grad():  # decoders in other threads may ask at the same time
            kept = model.__dict__.get("_decode_layout")
            if kept is None or kept[0] != key:
                kept = (key, make())
                model.__dict__["_decode_layout"] = kept
    return kept[1]
