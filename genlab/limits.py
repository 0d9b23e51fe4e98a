"""Server-side bounds on what one user may spend: training runs, diffusion requests, uploaded text.

Field bounds (genlab.params) say what makes sense for a model; these say what one server lets
one user spend. Public mode (a Space, a share link) is much tighter than a local run. They are
defined here once; the app hands them to the trainer and the tabs.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional, Tuple

from genlab.models.base import TrainConfig
from genlab.params import RequestError
from genlab.train import hub
from genlab.train.memory_estimate import readable, step_memory

if TYPE_CHECKING:  # the app reads these limits before torch has loaded
    from torch import nn


@dataclass(frozen=True)
class ServerLimits:
    max_steps: int
    max_batch_size: int
    max_parameters: int
    max_seconds: float  # wall time of one run, all its resumes together
    max_call_seconds: float = math.inf  # and of one start or resume of it
    max_denoising: int = 64 * 1000  # network evaluations of one diffusion request: digits x steps x branches
    max_text_bytes: int = 20_000_000  # a user's own training text, pasted or uploaded
    idle_run_seconds: float = math.inf  # a run nobody has used for this long is deleted (folder and previews)
    max_runs: float = math.inf  # runs kept at once; past it the least recently used idle one is deleted
    max_step_memory: float = math.inf  # bytes one training step may need (genlab.memory_estimate)
    hub_models: Optional[Tuple[str, ...]] = None  # Hub repos a model picker may load; None: any USER/NAME
    hub_push: bool = True  # whether the Train tab may push a run to the Hub (with its user's token)


def machine_memory() -> float:
    """Bytes of RAM this machine has (infinite where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # Windows has no SC_PHYS_PAGES
        return math.inf


# a public server's RAM is shared by every session (a free Space has 16 GB); 1.5 GB per training step
# leaves room for the app, its shipped models and other users' requests
PUBLIC_STEP_MEMORY = 1.5e9


# a local run is its owner's call up to the whole machine's RAM: a step estimated beyond it would swap or be
# killed, taking the app with it
LOCAL = ServerLimits(max_steps=200_000, max_batch_size=1024, max_parameters=50_000_000, max_seconds=12 * 3600,
                    max_step_memory=machine_memory())
# a shared CPU: 64 digits x 100 unguided steps (or x 50 guided) keep one user's request under a minute
PUBLIC = ServerLimits(max_steps=3_000, max_batch_size=256, max_parameters=5_000_000, max_seconds=600,
                     max_denoising=64 * 100, max_text_bytes=5 * 1024 * 1024, idle_run_seconds=3600, max_runs=40,
                     max_step_memory=PUBLIC_STEP_MEMORY, hub_models=(), hub_push=False)
# ZeroGPU lends a GPU for one call of at most genlab.ui.gpu.TRAIN_GPU_SECONDS: a run stops itself
# (with a checkpoint, so Resume continues it) before the GPU is taken away mid-step
ZERO_GPU = ServerLimits(max_steps=3_000, max_batch_size=256, max_parameters=5_000_000, max_seconds=600,
                       max_call_seconds=100, max_text_bytes=5 * 1024 * 1024, idle_run_seconds=3600, max_runs=40,
                       max_step_memory=PUBLIC_STEP_MEMORY, hub_models=(), hub_push=False)


# the Hub models a public server's owner lets visitors load: comma-separated USER/NAME repo ids
HUB_MODELS = "GENLAB_HUB_MODELS"


def with_listed_hub_models(limits: ServerLimits, environ: Mapping[str, str]) -> ServerLimits:
    """`limits` with $GENLAB_HUB_MODELS as its Hub list, where it loads only listed repos (public mode);
    local limits load any repo and ignore the setting. ValueError naming an entry that is no USER/NAME."""
    if limits.hub_models is None:
        return limits
    listed = tuple(dict.fromkeys(entry.strip() for entry in environ.get(HUB_MODELS, "").split(",") if entry.strip()))
    for repo in listed:
        if not hub.is_repo_id(repo):
            raise ValueError(f"{HUB_MODELS}: {repo!r} is not a Hub model id (USER/NAME); "
                             "list them separated by commas")
    return dataclasses.replace(limits, hub_models=listed)


def check(recipe: TrainConfig, model: nn.Module, limits: ServerLimits, config) -> None:
    """RequestError naming the limit when the run would exceed it; `model` (built from `config`) may
    live on the `meta` device: only its parameters' shapes are read."""
    if recipe.steps > limits.max_steps:
        raise RequestError(f"steps must be at most {limits.max_steps} here, got {recipe.steps}")
    if recipe.batch_size > limits.max_batch_size:
        raise RequestError(f"batch_size must be at most {limits.max_batch_size} here, got {recipe.batch_size}")
    count = sum(p.numel() for p in model.parameters())
    if count > limits.max_parameters:
        raise RequestError(f"the model would have {count:,} parameters; at most {limits.max_parameters:,} here")
    check_memory(recipe, model, limits, config)


def check_memory(recipe: TrainConfig, model: nn.Module, limits: ServerLimits, config) -> None:
    """RequestError giving the estimate and the largest batch that fits, when one training step
    would need more memory than `limits` allow."""
    need = step_memory(model, config)
    total = need.total(recipe.batch_size)
    if total <= limits.max_step_memory:
        return
    digits = 1 if readable(total) != readable(limits.max_step_memory) else 2  # never "1.5 GB; at most 1.5 GB"
    estimate, budget = readable(total, digits), readable(limits.max_step_memory, digits)
    largest = need.largest_batch(limits.max_step_memory)
    advice = (f"use batch_size {largest} or less (or a smaller model)" if largest else
              "even batch_size 1 would not fit: use a smaller model")
    raise RequestError(f"this run would need about {estimate} per training step; at most {budget} here: {advice}")


def check_denoising(samples: int, steps: int, branches: int, limits: ServerLimits) -> None:
    """RequestError when one diffusion request would take more than this server lets one user spend.

    The cost is counted in network evaluations of one digit: samples x steps x branches, where
    classifier-free guidance runs two branches (with and without the label) at every step."""
    evaluations = samples * steps * branches
    if evaluations > limits.max_denoising:
        guided = " x 2 for guidance" if branches == 2 else ""
        raise RequestError(f"{samples} digits x {steps} steps{guided} is {evaluations:,} network evaluations, more "
                           f"than this server allows per request ({limits.max_denoising:,}); use fewer steps "
                           f"(DPM-Solver++ needs about 20), fewer digits or guidance 1 (one branch)")
