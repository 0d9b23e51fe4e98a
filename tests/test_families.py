"""The family contract, checked for every registered family with a tiny config."""

import dataclasses

import pytest
import torch

from genlab import weights
from genlab.data import datasets, mnist
from genlab.models import sampling
from genlab.models.base import evaluating
from genlab.registry import FAMILIES
from genlab.train.loop import NonFiniteLoss, Progress, train

from conftest import poison_step, tiny, training_data


def batches(family, model, batch_size=8):
    return datasets.DATASETS[family.data].batches(training_data(family), batch_size, seed=0, **model.batch_options())


def test_registry_names_match_keys():
    assert all(name == f.name for name, f in FAMILIES.items())
    assert {"gan", "judge"} <= set(FAMILIES)


def test_one_step_gives_finite_losses_and_gradients_reach_every_parameter(family):
    model = tiny(family)
    model.train()
    optimizers = model.configure_optimizers(family.recipe)
    losses = model.training_step(next(batches(family, model)), optimizers)
    assert losses and all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert trainable
    for name, p in trainable:
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"no gradient reached {name}"
        assert p.grad.abs().sum() > 0, f"gradient of {name} is all zero"


def test_save_then_load_gives_identical_outputs(family, tmp_path):
    model = tiny(family).eval()
    x = (next(batches(family, model, 2))[:, :-1] if family.output == "text"
         else mnist.to_tensor(mnist.load_sample("test").images[:4]))
    folder = weights.save(model, tmp_path / family.name)
    loaded = weights.load(family, folder)
    assert dataclasses.asdict(loaded.config) == dataclasses.asdict(model.config)
    with evaluating(model), evaluating(loaded):
        if family.output == "image":
            request = sampling.digit_request("mix", 6, 3)
            assert torch.equal(sampling.sample_digits(model, request), sampling.sample_digits(loaded, request))
        else:
            first, second = model(x), loaded(x)
            first, second = (first[0], second[0]) if isinstance(first, tuple) else (first, second)
            assert torch.equal(first, second)


@pytest.mark.parametrize("name", [n for n, f in FAMILIES.items() if f.output == "image"])
def test_samples_have_shape_range_and_are_deterministic(name):
    model = tiny(FAMILIES[name])
    request = sampling.digit_request("7", 5, 42)
    first, second = sampling.sample_digits(model, request), sampling.sample_digits(model, request)
    assert first.shape == (5, 1, 28, 28) and first.dtype == torch.float32
    assert first.min() >= -1 and first.max() <= 1
    assert torch.equal(first, second)
    other = sampling.sample_digits(model, sampling.digit_request("7", 5, 43))
    assert not torch.equal(first, other)


def test_three_step_train_yields_progress_and_leaves_eval_mode(family):
    model = tiny(family)
    recipe = dataclasses.replace(family.recipe, steps=3, batch_size=8)
    events = list(train(family, model, training_data(family), recipe))
    assert [e.step for e in events] == [1, 2, 3]
    assert all(isinstance(e, Progress) and e.total == 3 for e in events)
    assert events[-1].fraction == 1.0 and not model.training


def test_training_runs_on_a_thread_left_in_inference_mode(family, tmp_path):
    """Grad modes are per thread and Gradio resumes generators on any worker: the loop sets its own."""
    model = tiny(family)
    recipe = dataclasses.replace(family.recipe, steps=2, batch_size=8)
    with torch.inference_mode():
        events = list(train(family, model, training_data(family), recipe, checkpoint=tmp_path / "run"))
    assert [e.step for e in events] == [1, 2]
    assert all(not p.is_inference() for p in model.parameters())


def test_closing_the_training_generator_stops_after_the_current_step(family):
    model = tiny(family)
    recipe = dataclasses.replace(family.recipe, steps=100, batch_size=8)
    run = train(family, model, training_data(family), recipe)
    first = next(run)
    run.close()
    assert first.step == 1 and not model.training
    with pytest.raises(StopIteration):
        next(run)


def test_non_finite_loss_stops_training(family, monkeypatch):
    model = tiny(family)
    recipe = dataclasses.replace(family.recipe, steps=5, batch_size=8)
    poison_step(monkeypatch, family, at_call=2, value=float("nan"))
    run = train(family, model, training_data(family), recipe)
    assert next(run).step == 1
    with pytest.raises(NonFiniteLoss, match="step 2"):
        next(run)
    assert not model.training


def test_same_seed_trains_to_the_same_weights(family):
    recipe = dataclasses.replace(family.recipe, steps=2, batch_size=8)
    runs = []
    for _ in range(2):
        model = tiny(family)
        last = list(train(family, model, training_data(family), recipe))[-1]
        runs.append((last.losses, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    from genlab.models.base import TrainConfig
    from genlab.train.loop import learning_rate
    recipe = TrainConfig(steps=110, lr=1.0, warmup_steps=10, schedule="cosine")
    assert learning_rate(0, recipe) == pytest.approx(0.1)
    assert learning_rate(9, recipe) == pytest.approx(1.0)
    assert learning_rate(10, recipe) == pytest.approx(1.0)
    assert learning_rate(60, recipe) == pytest.approx(0.55)
    assert learning_rate(110, recipe) == pytest.approx(0.1)
    assert learning_rate(50, TrainConfig(lr=0.3)) == 0.3
