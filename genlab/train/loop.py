"""The one training loop: a generator of progress events that the CLI prints, the UI streams
and tests `list()`. Closing the generator stops training after the current step; its `finally`
writes a checkpoint, so every way of stopping (Stop button, Ctrl-C, wall-time limit) can resume."""

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Optional

import torch
from torch import nn

from genlab.data import datasets
from genlab.models.base import Family, GenerativeModel, TrainConfig, model_device
from genlab.train import checkpoints, parallel

__all__ = ["NonFiniteLoss", "Progress", "TrainConfig", "train", "learning_rate"]


class NonFiniteLoss(FloatingPointError):
    """A loss became NaN or infinite; the weights of that step are suspect, resume from a checkpoint."""


@dataclass(frozen=True)
class Progress:
    step: int  # steps completed so far (counting any resumed ones)
    total: int  # steps the run will take
    losses: Dict[str, float]  # this step's logged values
    elapsed: float  # seconds since this session of the loop started
    start_step: int = 0  # where this session started (0, or the resumed checkpoint's step)
    note: str = ""  # why the run ended early, on its last event

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0

    @property
    def steps_per_second(self) -> float:
        return (self.step - self.start_step) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        rate = self.steps_per_second
        return (self.total - self.step) / rate if rate > 0 else math.inf


def learning_rate(step: int, recipe: TrainConfig) -> float:
    """Linear warm-up to `lr`, then constant or cosine decay to 10% of `lr`."""
    if step < recipe.warmup_steps:
        return recipe.lr * (step + 1) / recipe.warmup_steps
    if recipe.schedule == "cosine":
        done = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))
    return recipe.lr


@contextlib.contextmanager
def grad_on() -> Iterator[None]:
    """Autograd on, whatever the calling thread's mode: grad modes are per thread, and a generator
    may be resumed on a thread another handler left in inference mode."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def new_model(family: Family, config, recipe: TrainConfig, device) -> GenerativeModel:
    """A freshly initialised model to train, built alike for the CLI and the UI: its weights are
    seeded by the recipe, and real (not inference) tensors whatever mode the calling thread is in."""
    torch.manual_seed(recipe.seed)
    with grad_on():
        return family.model_cls(config).to(device)


def train(family: Family, model: nn.Module, dataset, recipe: TrainConfig, *,
          checkpoint: Optional[Path] = None, save_every: int = 0, save_seconds: float = math.inf,
          resume: bool = False, max_seconds: float = math.inf, processes=None) -> Iterator[Progress]:
    """Train `model` (already on its device) on `dataset` up to `recipe.steps`, yielding after each step.

    With `checkpoint`, the state is saved there every `save_every` steps (or `save_seconds`) and whenever the loop
    ends (finished, closed, interrupted, out of time), except after a non-finite loss, which
    keeps the last good checkpoint. `resume` continues from that checkpoint: same weights,
    optimiser moments, random state and data position, so the run matches an uninterrupted one.

    `processes` (parallel.join()'s, for the processes `accelerate launch` started) trains data-parallel:
    each process steps on its slice of every `recipe.batch_size` batch, the main process alone saves,
    and the logged values are the global batch's. Steps and the data position count global batches,
    so a checkpoint resumes with any number of processes. Without it, this process trains alone.
    """
    if resume and checkpoint is None:
        raise ValueError("resume needs a checkpoint folder")
    processes = processes or parallel.SingleProcess(model_device(model))
    with grad_on():
        optimizers = model.configure_optimizers(recipe)
        with processes.main_first():  # one process repairs a checkpoint a killed save left half-swapped
            start = checkpoints.restore(checkpoint, family, model, optimizers) if resume else 0
        optimizers = processes.prepare(model, optimizers, recipe)
    processes.seed(recipe.seed, start, resume)
    batches = datasets.DATASETS[family.data].batches(dataset, recipe.batch_size, seed=recipe.seed,
                                                     device=model_device(model), skip=start, **model.batch_options())
    done, saved, healthy, ended = start, start, True, False
    model.train()
    began = last_save = time.perf_counter()
    try:
        for step in range(start, recipe.steps):
            for optimizer in optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step, recipe)
            with grad_on(), processes.autocast():  # grad on at every step: the resuming thread may be in any mode
                losses = model.training_step(processes.shard(next(batches)), optimizers)
            losses = processes.mean(losses)
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                healthy = False
                raise NonFiniteLoss(f"step {step + 1}: {', '.join(bad)} became non-finite; training stopped "
                                    f"(the last checkpoint, step {saved}, is kept)")
            done = step + 1
            # time limits: every process takes the decision together (`any`), and only when there is a limit
            due = (save_every and done % save_every == 0) or (
                save_seconds < math.inf and processes.any(time.perf_counter() - last_save >= save_seconds))
            if checkpoint is not None and due and done < recipe.steps:
                with grad_on():
                    model.finalize()
                    processes.on_main(lambda: checkpoints.save(checkpoint, model, optimizers, done, recipe))
                saved, last_save = done, time.perf_counter()
            elapsed = time.perf_counter() - began
            out_of_time = max_seconds < math.inf and processes.any(elapsed > max_seconds) and done < recipe.steps
            note = f"stopped at the wall-time limit of {max_seconds:g} s" if out_of_time else ""
            ended = done == recipe.steps or out_of_time
            yield Progress(done, recipe.steps, losses, elapsed, start, note)
            if out_of_time:
                return
    finally:
        model.eval()
        processes.release(model)
        # several processes save at the end only when they all got there: after Ctrl-C or an error each
        # stops wherever it was, and a save's collectives could wait forever; the last periodic checkpoint stays
        if checkpoint is not None and healthy and done > saved and (ended or processes.count == 1):
            with grad_on():
                model.finalize()
                processes.on_main(lambda: checkpoints.save(checkpoint, model, optimizers, done, recipe))
