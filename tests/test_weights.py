"""weights.save / weights.load: strict, atomic, finite, pickle-free."""

import json
import pickle

import pytest
import torch
from safetensors.torch import load_file, save_file

from genlab import weights
from genlab.models import FAMILIES

from conftest import tiny

GAN = FAMILIES["gan"]


@pytest.fixture
def saved(tmp_path):
    return weights.save(tiny(GAN), tmp_path / "gan")


def test_folder_holds_config_and_safetensors_only(saved):
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((saved / "config.json").read_text())["g_width"] == GAN.tiny["g_width"]


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
    with pytest.raises(OSError, match="disk full"):
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
