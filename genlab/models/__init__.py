"""The family registry: the only place that lists the model families."""

from genlab.models import diffusion, gan, gpt, judge, lstm, vae
from genlab.models.base import Family, TrainConfig

FAMILIES = {f.name: f for f in (gan.FAMILY, vae.FAMILY, diffusion.FAMILY, gpt.FAMILY, lstm.FAMILY, judge.FAMILY)}

__all__ = ["FAMILIES", "Family", "TrainConfig", "get_family"]


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}") from None
