"""The Train tab's presets, and how long the quick one takes as measured by benchmarks/train_presets.py.

The benchmark writes train_presets.json beside this file; a measurement counts only while the
preset it timed is still the family's quick preset, so a changed preset shows no stale figure.
"""

import dataclasses
import json
from pathlib import Path
from typing import Optional, Tuple

from genlab import params
from genlab.models.base import Family, TrainConfig

PRESETS = ("quick", "shipped")
MEASURED_FILE = Path(__file__).with_name("train_presets.json")


def preset(family: Family, name: str) -> Tuple[TrainConfig, object]:
    """(recipe, config) of a preset: 'shipped' (the recipe of weights/) or 'quick' (a short run)."""
    if name not in PRESETS:
        raise params.RequestError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    if name == "quick" and family.quick_recipe is not None:
        return family.quick_recipe, family.config_cls(**family.quick_config)
    return family.recipe, family.config_cls()


def quick_fingerprint(family: Family) -> dict:
    """What the benchmark timed: the quick preset's recipe and model fields, as JSON values."""
    recipe, config = preset(family, "quick")
    return {"recipe": dataclasses.asdict(recipe),
            "config": {f.name: getattr(config, f.name) for f in params.tunable(config)}}


def measurement(family: Family, path: Path = MEASURED_FILE) -> Optional[dict]:
    """The benchmark's entry for the family's current quick preset; None if missing or of another preset."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))["families"][family.name]
    except (OSError, ValueError, KeyError):
        return None
    return entry if entry.get("preset") == quick_fingerprint(family) else None


def about(seconds: float) -> str:
    """A duration as people say it: "about 40 s", "about 2 min"."""
    if seconds < 90:
        return f"about {max(10, round(seconds / 10) * 10)} s"
    return f"about {round(seconds / 60)} min"


def preset_info(family: Family, path: Path = MEASURED_FILE) -> str:
    entry = measurement(family, path)
    quick = (f"quick: {about(entry['seconds'])} on {entry['cores']} CPU cores (measured)" if entry else
             "quick: a short run (not yet measured)")
    return f"{quick}; shipped: the recipe of the shipped weights"
