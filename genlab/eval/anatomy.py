"""How a network is built, read off the network itself: its stages in the order data flows through them,
with the tensor shape each one hands on and its parameter count.

The model's own held-out step (`validation_step`, which every family has) runs once on a two-example
batch of placeholder data, with a hook on each stage; so the shapes are the config's (a trained run's
own sizes), never a drawing that can drift from the code. It runs on the "meta" device: shapes
propagate, nothing is computed or allocated.
"""

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from genlab.models.base import Family, held_out_losses

LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding, nn.LSTM, nn.GRU)  # stages of their own
EXAMPLES = 2  # placeholder batch size; shapes are shown without it


@dataclass(frozen=True)
class Stage:
    name: str  # the module's path in the model: "generator.net.0", "blocks.3"
    kind: str  # its class: "ConvTranspose2d", "Block", "AttnDownBlock2D"
    shape: Tuple[int, ...]  # of what it hands on, one example's (no batch dimension)
    parameters: int
    takes: Tuple[int, ...] = ()  # of its first input, one example's


def _placeholder_images(model) -> tuple:
    return torch.zeros(EXAMPLES, 1, 28, 28), torch.zeros(EXAMPLES, dtype=torch.long)


def _placeholder_text(model) -> torch.Tensor:
    context = model.batch_options()["context"]
    return torch.zeros(EXAMPLES, context + 1, dtype=torch.long)  # (B, T + 1) windows of ids


# what a batch of each kind of data looks like (Family.data -> placeholder maker)
PLACEHOLDERS: Dict[str, Callable[[nn.Module], object]] = {
    "mnist": _placeholder_images, "text": _placeholder_text,
    "points2d": lambda model: torch.zeros(EXAMPLES, 2),  # (B, 2) points of the plane
}


def stages_of(model: nn.Module) -> Dict[str, nn.Module]:
    """The modules shown as one stage each: the items of a ModuleList (a transformer's blocks, a UNet's
    levels), and layers of LAYERS that are not inside such an item."""
    chosen: Dict[str, nn.Module] = {}
    for name, module in model.named_modules():
        if any(name.startswith(f"{outer}.") for outer in chosen):
            continue
        parent_name, _, _ = name.rpartition(".")
        parent = model.get_submodule(parent_name) if name else None
        if isinstance(parent, nn.ModuleList) or isinstance(module, LAYERS):
            chosen[name] = module
    return chosen


def _first_tensor(output) -> Optional[torch.Tensor]:
    """The tensor a stage hands on: itself, the first of a tuple (an LSTM's output, a UNet block's
    hidden state before its skips), or a diffusers output's `.sample`."""
    if torch.is_tensor(output):
        return output
    if isinstance(output, (tuple, list)) and output:
        return _first_tensor(output[0])
    return getattr(output, "sample", None)


def trace(family: Family, config) -> List[Stage]:
    """The stages of a `family` model built from `config`, in the order its held-out step calls them
    (a module called twice, as a GAN's discriminator is, is listed once: its first call)."""
    if family.data not in PLACEHOLDERS:
        raise ValueError(f"no placeholder data for {family.data!r}; one of {', '.join(PLACEHOLDERS)}")
    with torch.device("meta"):
        model = family.model_cls(config)
    seen: Dict[str, Stage] = {}

    def record(name: str, module: nn.Module):
        def hook(_module, inputs, output):
            tensor, given = _first_tensor(output), _first_tensor(inputs)
            if name not in seen and tensor is not None:
                count = sum(p.numel() for p in module.parameters())
                kind = type(module).__name__.removeprefix("Parametrized")  # spectral norm's wrapper class
                seen[name] = Stage(name, kind, tuple(tensor.shape[1:]), count,
                                   tuple(given.shape[1:]) if given is not None else ())
        return hook

    handles = [m.register_forward_hook(record(n, m)) for n, m in stages_of(model).items()]
    try:
        batch = PLACEHOLDERS[family.data](model)
        held_out_losses(model, _to_meta(batch))
    except RuntimeError as err:  # the logged values' .item(): meta tensors hold none, and the forward is done
        if "meta" not in str(err):
            raise
    finally:
        for handle in handles:
            handle.remove()
    return list(seen.values())


def _to_meta(batch):
    if torch.is_tensor(batch):
        return batch.to("meta")
    return type(batch)(_to_meta(b) for b in batch)


def input_shape(family: Family, config) -> Tuple[int, ...]:
    """One example's shape as the network takes it (ids for text: (T,))."""
    with torch.device("meta"):
        model = family.model_cls(config)
    batch = PLACEHOLDERS[family.data](model)
    first = batch if torch.is_tensor(batch) else batch[0]
    shape = tuple(first.shape[1:])
    return (shape[0] - 1,) if family.data == "text" else shape  # a text window is T inputs + 1 target
