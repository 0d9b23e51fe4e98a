"""Checkpoints: stop anywhere, resume to the same step and loss; crashes never lose the last one."""

import dataclasses
import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

from genlab import weights
from genlab.train import checkpoints
from genlab.train.loop import NonFiniteLoss, train

from conftest import TINY, poison_step, tiny, training_data

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
    from genlab.registry import FAMILIES
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
        from genlab import weights
        from genlab.data import mnist
        from genlab.registry import FAMILIES
        from genlab.train.loop import train
        gan = FAMILIES["gan"]
        recipe = dataclasses.replace(gan.recipe, steps=4, batch_size=8)
        real_replace = os.replace
        saves = []
        def replace(src, dst):
            saves.append(dst)
            if len(saves) == 2:  # second save: the old folder was moved aside, the new one not in place
                os._exit(9)
            return real_replace(src, dst)
        loop = train(gan, tiny(gan), mnist.load_sample("train"), recipe, checkpoint={str(folder)!r}, save_every=2)
        next(loop); next(loop)  # step 2: the first checkpoint is written
        weights.os.replace = replace
        for _ in loop:  # steps 3-4, then the final checkpoint save is killed half-way
            pass
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 9, result.stderr
    assert not folder.exists()  # the kill hit between the two renames
    from genlab.registry import FAMILIES
    assert checkpoints.read_step(folder) == 2  # recovered from the previous version
    weights.load(FAMILIES["gan"], folder)


def checkpoint_of_two_steps(folder):
    from genlab.registry import FAMILIES
    gan = FAMILIES["gan"]
    run(gan, dataclasses.replace(gan.recipe, steps=2, batch_size=8), folder)
    return gan


@pytest.mark.parametrize("damage, message", [
    (lambda state: state.unlink(), r"state.json is missing: the checkpoint's state cannot be read"),
    (lambda state: state.write_text(state.read_text()[:40]),
     r"state.json is not valid JSON \(.* at line \d+, column \d+\): the checkpoint's state is truncated or corrupt"),
    (lambda state: state.write_text("[" * 100_000), r"state.json is not usable JSON \(nested too deeply\)"),
    (lambda state: state.write_text('{"step": "two", "recipe": {}, "optimizers": {}}'),
     r"state.json has no valid 'step': the checkpoint's state is corrupt"),
])
def test_a_damaged_state_json_is_one_clear_error_naming_the_file(tmp_path, damage, message, capsys):
    from genlab.cli import main as cli
    folder = tmp_path / "ckpt"
    gan = checkpoint_of_two_steps(folder)
    damage(folder / checkpoints.STATE)
    for read in (checkpoints.read_step, checkpoints.read_recipe,
                 lambda f: checkpoints.restore(f, gan, tiny(gan), tiny(gan).configure_optimizers(gan.recipe))):
        with pytest.raises(weights.WeightsError, match=message):
            read(folder)
    assert cli.main(["train", "gan", "--resume", "--checkpoint", str(folder), "--out", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / checkpoints.STATE}") and len(err.splitlines()) == 1


def test_a_recipe_that_does_not_fit_is_named(tmp_path):
    folder = tmp_path / "ckpt"
    checkpoint_of_two_steps(folder)
    state = json.loads((folder / checkpoints.STATE).read_text())
    (folder / checkpoints.STATE).write_text(json.dumps({**state, "recipe": {**state["recipe"], "lr": "fast"}}))
    with pytest.raises(weights.WeightsError, match="state.json: recipe lr must be a finite number"):
        checkpoints.read_recipe(folder)


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def no_space_safetensors(*args, **kwargs):
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


@pytest.mark.parametrize("fail", [no_space, no_space_safetensors])
def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tmp_path, fail, monkeypatch):
    import safetensors.torch

    from genlab.ui.errors import is_user_error
    folder = tmp_path / "ckpt"
    gan = checkpoint_of_two_steps(folder)
    monkeypatch.setattr(checkpoints, "save_file", fail)  # the optimiser states
    monkeypatch.setattr(safetensors.torch, "save_file", fail)  # the model (save_pretrained)
    recipe = dataclasses.replace(gan.recipe, steps=4, batch_size=8)
    loop = train(gan, tiny(gan), training_data(gan), recipe, checkpoint=folder, resume=True)
    with pytest.raises(weights.SaveError) as caught:
        list(loop)  # the final save fails
    assert str(caught.value) == (f"could not save the checkpoint to {folder}: no space left on device; "
                                 "the previous checkpoint is kept")
    assert is_user_error(caught.value)  # the Train tab shows the message
    assert checkpoints.read_step(folder) == 2
    weights.load(gan, folder)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # the temp folder is gone


def test_the_cli_says_the_disk_is_full_in_one_line(tmp_path, monkeypatch, capsys):
    import safetensors.torch

    from genlab.cli import main as cli
    from genlab.data import mnist
    monkeypatch.setattr(mnist, "MIRRORS", ())
    monkeypatch.setattr(checkpoints, "save_file", no_space_safetensors)
    monkeypatch.setattr(safetensors.torch, "save_file", no_space_safetensors)
    argv = ["train", "gan", "--steps", "2", "--batch-size", "8", "--out", str(tmp_path / "w"),
            "--checkpoint", str(tmp_path / "ckpt")]
    argv += [x for k, v in TINY["gan"].items() for x in ("--" + k.replace("_", "-"), str(v))]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith(f"error: could not save the checkpoint to {tmp_path / 'ckpt'}: "
                                "no space left on device; nothing was saved")
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_the_next_save_removes_temp_folders_a_killed_save_left(tmp_path):
    import tempfile
    folder = tmp_path / "ckpt"
    gan = checkpoint_of_two_steps(folder)
    stale = Path(tempfile.mkdtemp(prefix=".ckpt-", dir=tmp_path))  # what a save makes, killed mid-way
    (stale / checkpoints.OPTIMIZERS).write_bytes(b"\0" * 1000)
    (tmp_path / ".ckpt-old").mkdir()
    (tmp_path / "ckpt-2").mkdir()
    (tmp_path / ".ckpt-2-abcdefgh").mkdir()  # another checkpoint's temp folder: not ours
    model = tiny(gan)
    checkpoints.save(folder, model, model.configure_optimizers(gan.recipe), 3, gan.recipe)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ckpt-2-abcdefgh", "ckpt", "ckpt-2"]
    assert checkpoints.read_step(folder) == 3


def test_a_new_model_is_seeded_by_its_recipe_and_trainable_in_inference_mode():
    from genlab.models.base import TrainConfig
    from genlab.registry import FAMILIES
    from genlab.train.loop import new_model
    family = FAMILIES["gan"]
    config = family.config_cls(**TINY["gan"])
    with torch.inference_mode():  # a Gradio worker thread another handler left in this mode
        a, b = (new_model(family, config, TrainConfig(seed=s), "cpu") for s in (3, 3))
    c = new_model(family, config, TrainConfig(seed=4), "cpu")
    first = lambda m: next(m.parameters())  # noqa: E731
    assert torch.equal(first(a), first(b)) and not torch.equal(first(a), first(c))
    assert not first(a).is_inference() and first(a).requires_grad
