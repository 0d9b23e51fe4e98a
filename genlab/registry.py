"""The family registry: the only place that lists the model families."""

from typing import Dict, List

from genlab.models import gan, judge, vae
from genlab.models.base import Family
from genlab.models.diffusion import model as diffusion
from genlab.models.text import gpt, lstm

FAMILIES: Dict[str, Family] = {f.name: f for f in (gan.FAMILY, vae.FAMILY, diffusion.FAMILY, gpt.FAMILY,
                                                   lstm.FAMILY, judge.FAMILY)}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}") from None

# by what they make, in registry order (text families also train on text: Family.data == "text")
IMAGE_FAMILIES: List[str] = [name for name, f in FAMILIES.items() if f.output == "image"]
TEXT_FAMILIES: List[str] = [name for name, f in FAMILIES.items() if f.output == "text"]
