"""The family registry: the only place that lists the model families.

It imports only the families' specs (configs and recipes, no torch); each family's torch code
loads on first use of `family.model_cls` and friends (see genlab.models.base.Family).
"""

from genlab.models import diffusion_spec, gan_spec, gpt_spec, judge_spec, lstm_spec, vae_spec
from genlab.models.base import Family, TrainConfig

FAMILIES = {f.name: f for f in (gan_spec.FAMILY, vae_spec.FAMILY, diffusion_spec.FAMILY, gpt_spec.FAMILY,
                                lstm_spec.FAMILY, judge_spec.FAMILY)}

__all__ = ["FAMILIES", "Family", "TrainConfig", "get_family"]


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}") from None
