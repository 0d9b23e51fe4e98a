"""Data-parallel training across the processes `accelerate launch` started (Hugging Face accelerate).

Each process holds a whole copy of the model. All of them draw the same global batch (same seed,
same data position) and each trains on its own slice of it; before every optimiser step the
gradients are averaged across the processes, so every copy takes the same step. A run therefore
follows the one-process run with the same global batch, up to float rounding, to the random
draws inside a step (the GAN's noise, dropout), which each process makes for its own slice, and to
BatchNorm (the GAN's generator), which normalises over each process's slice and keeps each
process's running statistics (the main process's are saved); SyncBatchNorm would share them.

Why not torch's DistributedDataParallel (what `accelerator.prepare(model)` would wrap the model
in): DDP averages gradients through hooks that its own forward() arms, but a family's
`training_step` calls its submodules directly (the GAN's generator and discriminator, a D step
then a G step), so DDP would never see those calls. Averaging at each optimiser step works
whatever a family does between its backward passes. accelerate provides the rest: the process
group (NCCL on GPUs, gloo on CPUs), each process's device, the collectives, mixed precision
(`accelerate launch --mixed_precision bf16|fp16`: autocast, and fp16 loss scaling through the
families' `backward` hook and the optimiser wrapper).
"""

import atexit
import hashlib
from typing import Callable, ContextManager, Dict

import torch
from accelerate import Accelerator
from accelerate.optimizer import AcceleratedOptimizer
from accelerate.utils import broadcast
from torch import nn

from genlab.models.base import Optimizers, TrainConfig


class GradientAveragingOptimizer(AcceleratedOptimizer):
    """accelerate's optimiser wrapper (fp16 loss scaling, skipped steps on overflow) that first
    averages the gradients of its own parameters across the processes, in one all-reduce."""

    def __init__(self, optimizer: torch.optim.Optimizer, accelerator: Accelerator):
        super().__init__(optimizer, device_placement=False, scaler=accelerator.scaler)
        self.accelerator = accelerator

    def step(self, closure=None):
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        if grads and self.accelerator.num_processes > 1:
            # one flat buffer, one collective (as DDP buckets them): many small all-reduces cost more.
            # Every process's backward reaches the same parameters, so the buffers line up.
            averaged = self.accelerator.reduce(torch.cat([g.reshape(-1) for g in grads]), "mean")
            for grad, part in zip(grads, averaged.split([g.numel() for g in grads])):
                grad.copy_(part.view_as(grad))
        # fp16: scaled gradients are averaged, so an overflow in any process skips the step in all
        return super().step(closure)


class DataParallel:
    """This process's part of a data-parallel run: the same hooks as parallel.SingleProcess."""

    def __init__(self, cpu: bool):
        self.accelerator = Accelerator(cpu=cpu)
        atexit.register(self.accelerator.end_training)  # destroys the process group (torch warns otherwise)
        self.count = self.accelerator.num_processes
        self.index = self.accelerator.process_index
        self.is_main = self.accelerator.is_main_process
        self.device = torch.device("cpu") if self.accelerator.device.type == "cpu" else self.accelerator.device

    def main_first(self) -> ContextManager:
        """The first process of each machine goes first (a data download, repairing a checkpoint);
        the others wait, then find the work done."""
        return self.accelerator.local_main_process_first()

    def prepare(self, model: nn.Module, optimizers: Optimizers, recipe: TrainConfig) -> Optimizers:
        """Check the global batch splits evenly, give every process the main process's weights, put
        accelerate's backward (fp16 loss scaling) in the model's hook and wrap the optimisers."""
        if recipe.batch_size % self.count:
            raise ValueError(f"batch size {recipe.batch_size} does not split evenly over {self.count} processes: "
                             f"use a multiple of {self.count}")
        with torch.no_grad():
            broadcast([t.detach() for t in (*model.parameters(), *model.buffers())], from_process=0)
        model.backward = self.accelerator.backward  # an instance attribute over GenerativeModel.backward
        return {name: GradientAveragingOptimizer(optimizer, self.accelerator) for name, optimizer in optimizers.items()}

    def release(self, model: nn.Module) -> None:
        """Undo `prepare`'s hook: the model goes back to its class's backward."""
        if "backward" in vars(model):
            del model.backward

    def seed(self, seed: int, step: int, resumed: bool) -> None:
        """Each process its own random stream (its slice gets its own noise), reproducible from the
        recipe's seed, the step the run starts at and the process index. A checkpoint keeps only the
        main process's random state, so a resumed run is reseeded here too."""
        digest = hashlib.sha256(f"genlab/{seed}/{step}/{self.index}".encode()).digest()
        torch.manual_seed(int.from_bytes(digest[:8], "little"))

    def shard(self, batch):
        """This process's slice of the global batch: rows i*B/n to (i+1)*B/n of each tensor (B, ...)."""
        if isinstance(batch, torch.Tensor):
            return batch.tensor_split(self.count)[self.index]
        return type(batch)(self.shard(part) for part in batch)

    def autocast(self) -> ContextManager:
        return self.accelerator.autocast()

    def mean(self, logs: Dict[str, float]) -> Dict[str, float]:
        """The logged values averaged over the processes: the global batch's, the same in every process
        (so a non-finite loss anywhere stops every process at the same step)."""
        values = torch.tensor(list(logs.values()), dtype=torch.float64, device=self.device)
        return dict(zip(logs, self.accelerator.reduce(values, "mean").tolist()))

    def any(self, flag: bool) -> bool:
        """True in every process when it is true in one: time limits are measured per process, and the
        decisions they drive (save now, stop now) must be the same everywhere."""
        return bool(self.accelerator.reduce(torch.tensor([float(flag)], device=self.device), "sum").item() > 0)

    def on_main(self, work: Callable[[], object]) -> None:
        """Run `work` (a save) in the main process while the others wait; if it fails, every process
        raises, rather than the others waiting forever at the next collective."""
        failure = None
        if self.is_main:
            try:
                work()
            except Exception as err:  # re-raised below, after telling the others
                failure = err
        if self.any(failure is not None) and failure is None:
            raise RuntimeError("the main process could not save (its error says why); every process stops")
        if failure is not None:
            raise failure

    def facts(self) -> Dict[str, object]:
        return {"processes": self.count, "mixed_precision": self.accelerator.mixed_precision}
