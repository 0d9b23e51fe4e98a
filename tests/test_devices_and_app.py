"""Device resolution and app.py's launch settings."""

import importlib
import sys
from pathlib import Path

import pytest
import torch

from genlab import devices

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_resolution():
    devices._resolve.cache_clear()
    yield
    devices._resolve.cache_clear()


def test_env_override_and_explicit_names(monkeypatch):
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert devices.resolve() == torch.device("cpu")
    assert devices.resolve("CPU") == torch.device("cpu")


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("GENLAB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert devices.resolve().type == expected


def test_the_environment_is_read_on_every_call(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert devices.resolve().type == "cpu"
    monkeypatch.setenv("GENLAB_DEVICE", "auto")
    assert devices.resolve().type == "mps"


def test_unknown_or_unavailable_devices_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        devices.resolve("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            devices.resolve("cuda")


def test_app_defaults_to_localhost_7860_and_honours_gradio_env(monkeypatch):
    sys.path.insert(0, str(ROOT))
    app = importlib.import_module("app")
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8080")
    args = app.parse_args(["--share"])
    assert (args.host, args.port, args.share) == ("0.0.0.0", 8080, True)
    assert type(app.demo).__name__ == "Blocks"
