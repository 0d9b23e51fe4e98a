"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint folder holds the model (config.json + model.safetensors, as any weights folder),
the optimiser states and random-number-generator states (optimizers.safetensors) and the step
and recipe (state.json). No pickles: optimiser states are flattened into named tensors plus JSON.
Folders are swapped in atomically (weights.atomic_folder), so a kill mid-save leaves the
previous checkpoint loadable, and a full disk is a weights.SaveError that says it is kept. A
damaged or missing state.json is a WeightsError naming the file.

A multi-process run (genlab.train.distributed) is saved by its main process alone: its step
counts global batches, which is also the data position, and every process holds the same weights
and optimiser state, so the checkpoint resumes with any number of processes (random states are
the main process's; several processes reseed from the step, see DataParallel.seed).
"""

import dataclasses
import json
from pathlib import Path
from typing import Dict, Tuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from genlab import params, weights
from genlab.models.base import Family, TrainConfig

STATE = "state.json"
OPTIMIZERS = "optimizers.safetensors"


def _flatten(optimizers: Dict[str, torch.optim.Optimizer]) -> Tuple[Dict[str, torch.Tensor], dict]:
    tensors, layout = {}, {}
    for name, optimizer in optimizers.items():
        state_dict = optimizer.state_dict()
        layout[name] = {"param_groups": state_dict["param_groups"], "state": {}}
        for index, values in state_dict["state"].items():
            layout[name]["state"][str(index)] = {}
            for key, value in values.items():
                if torch.is_tensor(value):
                    tensors[f"optim/{name}/{index}/{key}"] = value.detach().cpu().contiguous()
                    layout[name]["state"][str(index)][key] = "tensor"
                else:
                    layout[name]["state"][str(index)][key] = value
    return tensors, layout


def _unflatten(tensors: Dict[str, torch.Tensor], layout: dict, name: str) -> dict:
    state = {int(index): {key: tensors[f"optim/{name}/{index}/{key}"] if value == "tensor" else value
                          for key, value in values.items()}
             for index, values in layout[name]["state"].items()}
    return {"state": state, "param_groups": layout[name]["param_groups"]}


def save(folder: Path, model: nn.Module, optimizers: Dict[str, torch.optim.Optimizer],
         step: int, recipe: TrainConfig) -> Path:
    """Write a checkpoint of `model` as it is (the loop calls `model.finalize()` first, so every
    checkpoint is ready to sample)."""
    tensors, layout = _flatten(optimizers)
    tensors["rng/cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = state
    with weights.atomic_folder(folder, what="checkpoint") as tmp:
        weights.write_model(model, tmp)
        save_file(tensors, str(tmp / OPTIMIZERS))
        state = {"step": step, "recipe": dataclasses.asdict(recipe), "optimizers": layout}
        (tmp / STATE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    return Path(folder)


def read_state(folder: Path) -> dict:
    """state.json of the checkpoint in `folder`: {"step": int, "recipe": dict, "optimizers": dict};
    WeightsError naming the file when it is missing, damaged or lacks one of those."""
    path = Path(folder) / STATE
    state = weights.load_json(path, "the checkpoint's state")
    kinds = {"step": int, "recipe": dict, "optimizers": dict}
    wrong = [key for key, kind in kinds.items() if not isinstance(state, dict) or not isinstance(state.get(key), kind)]
    if wrong:
        raise weights.WeightsError(f"{path} has no valid {', '.join(repr(k) for k in wrong)}: "
                                   "the checkpoint's state is corrupt")
    return state


def read_step(folder: Path) -> int:
    """The step a checkpoint was saved at (0 when there is no checkpoint folder)."""
    folder = Path(folder)
    weights.recover(folder)
    return read_state(folder)["step"] if folder.is_dir() else 0


def read_recipe(folder: Path) -> dict:
    """The recipe a checkpoint was trained with, as saved (checked against TrainConfig)."""
    weights.recover(Path(folder))
    recipe = read_state(folder)["recipe"]
    try:
        params.build(TrainConfig, recipe)
    except params.RequestError as err:
        raise weights.WeightsError(f"{Path(folder) / STATE}: recipe {err}") from err
    return recipe


def restore(folder: Path, family: Family, model: nn.Module, optimizers: Dict[str, torch.optim.Optimizer]) -> int:
    """Load weights, optimiser and RNG states of the checkpoint into `model`/`optimizers`; returns its step."""
    folder = Path(folder)
    saved = weights.load(family, folder, device=next(model.parameters()).device)
    model.load_state_dict(saved.state_dict(), strict=True)
    state = read_state(folder)
    try:
        tensors = load_file(str(folder / OPTIMIZERS))
    except (OSError, ValueError, SafetensorError) as err:
        raise weights.WeightsError(f"{folder / OPTIMIZERS}: incomplete checkpoint ({err})") from err
    if set(state["optimizers"]) != set(optimizers):
        raise weights.WeightsError(f"{folder}: checkpoint optimisers {sorted(state['optimizers'])} do not match "
                                   f"{sorted(optimizers)}")
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(_unflatten(tensors, state["optimizers"], name))
    torch.set_rng_state(tensors["rng/cpu"])
    cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda/")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    return int(state["step"])
