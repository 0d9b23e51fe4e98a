"""How many processes train: this one alone (`python -m genlab train`, the app), or each of those
`accelerate launch` started (genlab.train.distributed).

The training loop calls the same hooks either way; here they leave everything as it is, so a run
without `accelerate launch` is today's run, step for step. accelerate is imported only when it
launched this process: the app and one-process runs never pay its import time.
"""

import contextlib
import os
from typing import Callable, ContextManager, Dict

import torch
from torch import nn

from genlab.models.base import Optimizers, TrainConfig


def launched() -> bool:
    """Started by `accelerate launch` (which sets ACCELERATE_MIXED_PRECISION, to "no" too) or by
    torchrun with more than one process."""
    return "ACCELERATE_MIXED_PRECISION" in os.environ or int(os.environ.get("WORLD_SIZE") or 1) > 1


class SingleProcess:
    """Training in this process alone: every hook is the identity."""

    count, index, is_main = 1, 0, True

    def __init__(self, device: torch.device):
        self.device = device

    def main_first(self) -> ContextManager:
        return contextlib.nullcontext()

    def prepare(self, model: nn.Module, optimizers: Optimizers, recipe: TrainConfig) -> Optimizers:
        return optimizers

    def release(self, model: nn.Module) -> None:
        pass

    def seed(self, seed: int, step: int, resumed: bool) -> None:
        if not resumed:  # a resumed run carries on with the checkpoint's random state
            torch.manual_seed(seed)

    def shard(self, batch):
        return batch

    def autocast(self) -> ContextManager:
        return contextlib.nullcontext()

    def mean(self, logs: Dict[str, float]) -> Dict[str, float]:
        return logs

    def any(self, flag: bool) -> bool:
        return flag

    def on_main(self, work: Callable[[], object]) -> None:
        work()

    def facts(self) -> Dict[str, object]:
        """What training.json records about the processes (nothing, for one)."""
        return {}


def join(device: torch.device):
    """SingleProcess on `device`, or, under `accelerate launch`, this process's part of the group
    (a distributed.DataParallel on the device accelerate gives it; CPU processes when `device` is the CPU)."""
    if not launched():
        return SingleProcess(device)
    try:
        from genlab.train import distributed  # imports accelerate: only in processes it launched
    except ModuleNotFoundError as err:
        raise ValueError(f"multi-process training needs {err.name}: pip install accelerate==1.15.0") from err
    return distributed.DataParallel(cpu=device.type == "cpu")
