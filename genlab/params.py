"""Dataclass fields that carry their own help text and bounds.

One declaration feeds the CLI flags, the Train tab's form and the validation that runs before
any model work, so a bound can never differ between them.
"""

import dataclasses
import math
from typing import Any, Optional, Sequence


class RequestError(ValueError):
    """A value outside its valid range; the message names the range and is safe to show users."""


# every seed a person types (training, sampling, text): 31 bits, so JSON clients, numpy and
# torch.Generator all take it as it is
MAX_SEED = 2**31 - 1


def check_seed(value: Any, name: str = "seed") -> int:
    return check_value(name, value, int, 0, MAX_SEED)


def param(default: Any, help: str, low: Optional[float] = None, high: Optional[float] = None,
          choices: Optional[Sequence[str]] = None, derived: bool = False, basic: bool = False):
    """A dataclass field with `help` and inclusive bounds (`low`/`high`) or a set of `choices`.

    `derived` fields are set from the training data (a text model's vocabulary), never by hand:
    forms and CLI flags leave them out (see `tunable`). `basic` fields are the few people change
    most (steps, batch size, learning rate, width): forms show them first and fold the rest away.
    """
    return dataclasses.field(default=default, metadata={"help": help, "low": low, "high": high, "derived": derived,
                                                        "choices": tuple(choices) if choices else None,
                                                        "basic": basic})


def spec(f: dataclasses.Field) -> dict:
    """help/low/high/choices/derived/basic of a field (empty values for plain fields)."""
    return {"help": "", "low": None, "high": None, "choices": None, "derived": False, "basic": False,
            **dict(f.metadata)}


def tunable(cls_or_instance) -> list:
    """The fields a person sets (CLI flags, form widgets), in declaration order."""
    return [f for f in dataclasses.fields(cls_or_instance) if not spec(f)["derived"]]


def coerce(f: dataclasses.Field, value: Any) -> Any:
    """`value` as the field's type and within its bounds; RequestError naming the field otherwise."""
    s = spec(f)
    return check_value(f.name, value, type(f.default), s["low"], s["high"], s["choices"])


def check_value(name: str, value: Any, kind: type, low: Optional[float] = None, high: Optional[float] = None,
                choices: Optional[Sequence[str]] = None) -> Any:
    """`value` as `kind` (bool, str, int or float) within [low, high] or `choices`, else RequestError."""
    if kind is bool:
        if not isinstance(value, bool):
            raise RequestError(f"{name} must be true or false, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise RequestError(f"{name} must be text, got {value!r}")
        if choices and value not in choices:
            raise RequestError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RequestError(f"{name} must be a finite number, got {value!r}")
    if kind is int:
        if value != int(value):
            raise RequestError(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if (low is not None and value < low) or (high is not None and value > high):
        span = (f"from {_show(low)} to {_show(high)}" if low is not None and high is not None
                else f"at least {_show(low)}" if low is not None else f"at most {_show(high)}")
        raise RequestError(f"{name} must be {span}, got {_show(value)}")
    return value


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def build(cls, values: dict):
    """An instance of dataclass `cls` from `values`, every field checked; unknown keys refused."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise RequestError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return cls(**{k: coerce(fields[k], v) for k, v in values.items()})


def check(instance) -> None:
    """Re-check every field of an existing dataclass instance."""
    build(type(instance), dataclasses.asdict(instance))
