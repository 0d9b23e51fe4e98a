"""Checkpoints: stop anywhere, resume to the same step and loss; crashes never lose the last one."""

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from genlab import checkpoints, weights
from genlab.training import NonFiniteLoss, train

from conftest import poison_step, tiny, training_data

ROOT = Path(__file__).resolve().parent.parent


def run(family, recipe, folder, *, stop_after=None, resume=False, seed=0):
    model = tiny(family, seed=seed)
    events = []
    loop = train(family, model, training_data(family), recipe, checkpoint=folder, resume=resume)
    for event in loop:
        events.append(event)
        if stop_after is not None and event.step == stop_after:
            loop.close()  # what Stop in the UI and Ctrl-C in the CLI do
    return model, events


def test_a_resumed_run_matches_an_uninterrupted_one(family, tmp_path):
    recipe = dataclasses.replace(family.recipe, steps=6, batch_size=8)
    straight, events = run(family, recipe, tmp_path / "a")
    _, first = run(family, recipe, tmp_path / "b", stop_after=3)
    assert first[-1].step == 3 and checkpoints.read_step(tmp_path / "b") == 3
    resumed, second = run(family, recipe, tmp_path / "b", resume=True, seed=99)  # init is overwritten
    assert [e.step for e in second] == [4, 5, 6] and second[0].start_step == 3
    assert second[-1].losses == events[-1].losses
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_the_checkpoint_is_a_loadable_weights_folder(tmp_path):
    from genlab.models import FAMILIES
    gan = FAMILIES["gan"]
    model, _ = run(gan, dataclasses.replace(gan.recipe, steps=2, batch_size=8), tmp_path / "c")
    loaded = weights.load(gan, tmp_path / "c")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))


def test_a_non_finite_loss_keeps_the_last_good_checkpoint(family, tmp_path, monkeypatch):
    recipe = dataclasses.replace(family.recipe, steps=10, batch_size=8)
    poison_step(monkeypatch, family, at_call=5, value=float("inf"))
    model = tiny(family)
    loop = train(family, model, training_data(family), recipe, checkpoint=tmp_path / "n", save_every=2)
    with pytest.raises(NonFiniteLoss, match="step 5: .* last checkpoint, step 4"):
        list(loop)
    assert checkpoints.read_step(tmp_path / "n") == 4


def test_a_process_killed_during_a_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    folder = tmp_path / "k"
    script = textwrap.dedent(f"""
        import dataclasses, os, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
        from conftest import tiny
        from genlab import data, weights
        from genlab.models import FAMILIES
        from genlab.training import train
        gan = FAMILIES["gan"]
        recipe = dataclasses.replace(gan.recipe, steps=4, batch_size=8)
        real_replace = os.replace
        saves = []
        def replace(src, dst):
            saves.append(dst)
            if len(saves) == 2:  # second save: the old folder was moved aside, the new one not in place
                os._exit(9)
            return real_replace(src, dst)
        loop = train(gan, tiny(gan), data.load_sample("train"), recipe, checkpoint={str(folder)!r}, save_every=2)
        next(loop); next(loop)  # step 2: the first checkpoint is written
        weights.os.replace = replace
        for _ in loop:  # steps 3-4, then the final checkpoint save is killed half-way
            pass
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 9, result.stderr
    assert not folder.exists()  # the kill hit between the two renames
    from genlab.models import FAMILIES
    assert checkpoints.read_step(folder) == 2  # recovered from the previous version
    weights.load(FAMILIES["gan"], folder)
