"""The public memory budget per training step: estimated from config and recipe, before any model work."""

import dataclasses
import re

import pytest
import torch

from genlab import limits, params
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train import memory_estimate
from genlab.ui import train_run
from genlab.ui.store import ModelStore

from conftest import TEXT, TINY, no_model_work

# issue 15: passes every other public limit (4.9M parameters), yet batch 256 took the server down
LARGE_GPT = {"context": 1024, "n_layer": 2, "n_head": 8, "n_embd": 448}


def public_run(tmp_path):
    return train_run.TrainContext(ModelStore("cpu", runs_root=tmp_path), limits.PUBLIC)


def recipe_values(family, batch_size, steps=10):
    return dataclasses.asdict(dataclasses.replace(family.recipe, steps=steps, batch_size=batch_size))


def step_memory(family, overrides):
    config = overrides if isinstance(overrides, family.config_cls) else params.build(family.config_cls, overrides)
    with torch.device("meta"):
        model = family.model_cls(config)
    return memory_estimate.step_memory(model, config)


def refusal(tmp_path, batch_size) -> str:
    gpt = FAMILIES["gpt"]
    with pytest.raises(RequestError) as raised:
        train_run.checked_run(public_run(tmp_path), "gpt", recipe_values(gpt, batch_size), LARGE_GPT, TEXT)
    return str(raised.value)


def test_the_large_gpt_at_batch_256_is_refused_with_the_estimate_and_a_batch_that_fits(tmp_path):
    message = refusal(tmp_path, 256)
    match = re.fullmatch(r"this run would need about ([\d.]+) GB per training step; at most 1\.5 GB here: "
                         r"use batch_size (\d+) or less \(or a smaller model\)", message)
    assert match, message
    assert float(match.group(1)) > 1.5
    assert 1 <= int(match.group(2)) < 256


def test_the_large_gpt_at_the_largest_fitting_batch_is_accepted(tmp_path):
    fitting = int(re.search(r"use batch_size (\d+) or less", refusal(tmp_path, 256)).group(1))
    gpt = FAMILIES["gpt"]
    _, recipe, config, _ = train_run.checked_run(public_run(tmp_path), "gpt", recipe_values(gpt, fitting),
                                                 LARGE_GPT, TEXT)
    assert recipe.batch_size == fitting and config.context == 1024
    need = step_memory(gpt, config)
    assert need.total(fitting) <= limits.PUBLIC.max_step_memory < need.total(fitting + 1)
    assert f"use batch_size {fitting} or less" in refusal(tmp_path, fitting + 1)


def test_the_refusal_builds_no_real_model_and_runs_no_forward(tmp_path):
    with no_model_work() as work:
        refusal(tmp_path, 256)
    assert work == {"forward calls": 0, "real parameters": 0}


def test_a_tiny_run_of_every_family_fits_the_public_budget(tmp_path, family):
    text = TEXT if family.data == "text" else None
    train_run.checked_run(public_run(tmp_path), family.name, recipe_values(family, 8), dict(TINY[family.name]), text)
    assert step_memory(family, TINY[family.name]).total(8) < limits.PUBLIC.max_step_memory / 100


def test_every_shipped_recipe_fits_the_public_budget(family):
    assert step_memory(family, {}).total(family.recipe.batch_size) <= limits.PUBLIC.max_step_memory


def test_the_estimate_grows_with_batch_size_and_context():
    gpt, lstm = FAMILIES["gpt"], FAMILIES["lstm"]
    small = step_memory(gpt, {**TINY[gpt.name], "context": 64})
    assert small.total(1) < small.total(2) < small.total(64)
    assert small.total(8) < step_memory(gpt, {**TINY[gpt.name], "context": 128}).total(8)
    assert step_memory(lstm, {**TINY[lstm.name], "context": 64}).total(8) < step_memory(
        lstm, {**TINY[lstm.name], "context": 128}).total(8)


def test_the_estimate_counts_weights_gradients_and_both_adam_moments(family):
    """A batch of none still holds four float32 copies of every trainable parameter (EMA copies: one)."""
    config = params.build(family.config_cls, TINY[family.name])
    with torch.device("meta"):
        model = family.model_cls(config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    assert memory_estimate.step_memory(model, config).fixed == 4 * (4 * trainable + frozen) + buffers


def test_a_model_too_large_for_even_one_example_says_so():
    gpt = FAMILIES["gpt"]
    config = params.build(gpt.config_cls, LARGE_GPT)
    with torch.device("meta"):
        model = gpt.model_cls(config)
    tight = dataclasses.replace(limits.PUBLIC, max_step_memory=100e6)
    recipe = dataclasses.replace(gpt.recipe, steps=10, batch_size=1)
    with pytest.raises(RequestError, match="even batch_size 1 would not fit: use a smaller model"):
        limits.check(recipe, model, tight, config)


def test_local_runs_may_use_the_machine_and_public_ones_a_fixed_budget():
    assert limits.PUBLIC.max_step_memory == limits.ZERO_GPU.max_step_memory == 1.5e9
    assert limits.LOCAL.max_step_memory == limits.machine_memory() > limits.PUBLIC.max_step_memory


def test_an_estimate_just_over_the_budget_is_told_apart_from_it():
    gpt = FAMILIES["gpt"]
    config = params.build(gpt.config_cls, LARGE_GPT)
    with torch.device("meta"):
        model = gpt.model_cls(config)
    need = memory_estimate.step_memory(model, config)
    recipe = dataclasses.replace(gpt.recipe, steps=10, batch_size=4)
    budget = dataclasses.replace(limits.PUBLIC, max_step_memory=need.total(4) * 0.99)
    with pytest.raises(RequestError, match=r"about (\d\.\d\d) GB per training step; at most (?!\1)\d\.\d\d GB"):
        limits.check(recipe, model, budget, config)
