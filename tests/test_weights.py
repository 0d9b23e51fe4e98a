"""weights.save / weights.load: strict, atomic, finite, pickle-free."""

import errno
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genlab import params, weights
from genlab.registry import FAMILIES

from conftest import TINY, tiny

GAN = FAMILIES["gan"]


@pytest.fixture
def saved(tmp_path):
    return weights.save(tiny(GAN), tmp_path / "gan")


def test_folder_holds_config_and_safetensors_only(saved):
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((saved / "config.json").read_text())["g_width"] == TINY[GAN.name]["g_width"]


def test_missing_folder_is_a_clear_error_not_a_hub_lookup(tmp_path):
    with pytest.raises(weights.WeightsError, match="no weights folder .*genlab train gan"):
        weights.load(GAN, tmp_path / "absent")


def test_non_finite_tensors_are_refused_naming_the_file(saved):
    tensors = load_file(str(saved / "model.safetensors"))
    name = next(k for k in tensors if tensors[k].is_floating_point())
    tensors[name][0] = float("nan")
    save_file(tensors, str(saved / "model.safetensors"))
    with pytest.raises(weights.WeightsError, match=f"model.safetensors: non-finite.*{name}"):
        weights.load(GAN, saved)


def test_config_must_match_the_dataclass_exactly(saved):
    config = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**config, "surprise": 1}))
    with pytest.raises(weights.WeightsError, match="unexpected \\['surprise'\\]"):
        weights.load(GAN, saved)
    (saved / "config.json").write_text(json.dumps({**config, "g_width": "wide"}))
    with pytest.raises(weights.WeightsError, match="g_width must be a finite number"):
        weights.load(GAN, saved)


def test_tensor_shapes_must_match_the_config(saved):
    config = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**config, "g_width": config["g_width"] * 2}))
    with pytest.raises(weights.WeightsError, match="do not match GAN"):
        weights.load(GAN, saved)


class Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_a_pickle_in_place_of_weights_is_never_executed(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (saved / "model.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    (saved / "pytorch_model.bin").write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(weights.WeightsError, match="cannot read tensors"):
        weights.load(GAN, saved)
    assert not (tmp_path / "PWNED").exists()


def test_save_replaces_atomically_and_keeps_the_old_folder_on_failure(saved, monkeypatch):
    before = (saved / "model.safetensors").read_bytes()
    model = tiny(GAN, seed=1)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # a kill in the middle of writing

    monkeypatch.setattr(type(model), "save_pretrained", crash)
    with pytest.raises(KeyboardInterrupt):
        weights.save(model, saved)
    assert (saved / "model.safetensors").read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["gan"]  # no temp folders left behind
    weights.load(GAN, saved)


def test_loaded_models_are_in_eval_mode_on_the_requested_device(saved):
    model = weights.load(GAN, saved, device=torch.device("cpu"))
    assert not model.training and next(model.parameters()).device.type == "cpu"


def test_saved_files_are_readable_by_other_users(saved):
    assert saved.stat().st_mode & 0o777 == 0o755
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in saved.iterdir())


def test_a_failed_swap_puts_the_previous_version_back(saved, monkeypatch):
    import os
    before = (saved / "model.safetensors").read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(src).startswith(str(saved.parent / ".gan-")) and not str(src).endswith("-old"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(weights.os, "replace", failing_replace)
    kept = "could not save the weights to .*: disk full; the previous weights are kept"
    with pytest.raises(weights.SaveError, match=kept):
        weights.save(tiny(GAN, seed=1), saved)
    assert (saved / "model.safetensors").read_bytes() == before


def test_half_precision_storage_loads_back_as_float32(tmp_path):
    model = tiny(GAN)
    folder = weights.save(model, tmp_path / "half", dtype="float16")
    stored = load_file(str(folder / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in stored.values() if t.is_floating_point())
    loaded = weights.load(GAN, folder)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert b.dtype == a.dtype, name
        if a.is_floating_point():
            assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), name


@pytest.mark.parametrize("text, message", [
    (None, r"config.json is missing: the model's config cannot be read"),
    ('{"g_width": 8, "z_di',
     r"config.json is not valid JSON \(.* at line 1, column \d+\): the model's config is truncated"),
    ("[" * 100_000, r"config.json is not usable JSON \(nested too deeply\): the model's config is corrupt"),
    (b"\xff\xfe{}", r"config.json is not UTF-8 text: the model's config is corrupt"),
])
def test_a_damaged_config_is_one_clear_error_naming_the_file(saved, text, message, capsys, tmp_path, monkeypatch):
    config = saved / "config.json"
    if text is None:
        config.unlink()
    elif isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text)
    with pytest.raises(weights.WeightsError, match=message):
        weights.load(GAN, saved)
    from genlab.cli import main as cli
    monkeypatch.setattr(weights, "ROOT", saved.parent)  # the damaged folder as the shipped weights
    assert cli.main(["sample", "gan", "--n", "2", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config}") and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("text, message", [
    ('{"summary": {"fid": 1', r"metrics.json is not valid JSON"),
    ("[" * 100_000, r"metrics.json is not usable JSON \(nested too deeply\)"),
    ("[1, 2]", r"metrics.json holds list, not an object"),
])
def test_a_damaged_record_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "metrics.json").write_text(text)
    with pytest.raises(weights.WeightsError, match=message):
        weights.read_json(tmp_path / "metrics.json")
    assert weights.read_json(tmp_path / "absent.json") == {}


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def no_space_safetensors(*args, **kwargs):
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


@pytest.mark.parametrize("fail", [no_space, no_space_safetensors])
def test_a_full_disk_keeps_the_previous_weights_and_says_so(saved, fail, monkeypatch):
    import safetensors.torch
    before = (saved / "model.safetensors").read_bytes()
    monkeypatch.setattr(safetensors.torch, "save_file", fail)  # what save_pretrained writes with
    monkeypatch.setattr(weights, "save_file", fail)
    for dtype in ("float32", "float16"):
        with pytest.raises(weights.SaveError) as caught:
            weights.save(tiny(GAN, seed=1), saved, dtype=dtype)
        assert str(caught.value) == (f"could not save the weights to {saved}: no space left on device; "
                                     "the previous weights are kept")
    assert isinstance(caught.value, params.RequestError)  # the UI shows its message
    assert (saved / "model.safetensors").read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["gan"]
    weights.load(GAN, saved)


def test_a_full_disk_while_writing_a_record_keeps_the_previous_one(tmp_path, monkeypatch):
    weights.write_json(tmp_path / "metrics.json", {"a": 1})
    monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(weights.SaveError, match="metrics.json: no space left on device; the previous version is kept"):
        weights.write_json(tmp_path / "metrics.json", {"a": 2})
    monkeypatch.undo()
    assert weights.read_json(tmp_path / "metrics.json") == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_save_removes_only_the_temp_folders_a_killed_save_left(saved):
    import tempfile
    root = saved.parent
    stale = [Path(tempfile.mkdtemp(prefix=".gan-", dir=root)) for _ in range(2)]  # the names a save makes
    (stale[0] / "model.safetensors").write_bytes(b"\0" * 1000)
    (root / ".gan-old").mkdir()  # the previous version, left when a kill hit after the swap
    keep = [".gan-abc", ".gan-ABCDEFGH", ".gan-2-abcdefgh", ".gan-2-old", "gan-abcdefgh", ".gan-abcdefgh-x"]
    for name in keep:
        (root / name).mkdir()
    (root / ".gan-filefile").write_text("a file, not a temp folder")
    weights.save(tiny(GAN, seed=1), saved)
    assert sorted(p.name for p in root.iterdir()) == sorted(["gan", ".gan-filefile", *keep])
    weights.load(GAN, saved)


def test_a_half_done_swap_is_recovered_not_removed(saved):
    old = saved.with_name(".gan-old")
    saved.rename(old)  # killed between the two renames: only the previous version remains
    weights.remove_stale_temps(saved)
    assert saved.is_dir() and not old.exists()
    weights.load(GAN, saved)
