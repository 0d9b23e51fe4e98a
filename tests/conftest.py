import os

import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GENLAB_DEVICE", "cpu")
# the tests must work for users without the full MNIST files: hide any configured copy
os.environ.pop("GENLAB_DATA_DIR", None)

from genlab import weights  # noqa: E402
from genlab.models import FAMILIES  # noqa: E402

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the real user cache (or downloads into it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def tiny(family, seed=0):
    torch.manual_seed(seed)
    return weights.build(family, **family.tiny)


@pytest.fixture(params=list(FAMILIES), ids=list(FAMILIES))
def family(request):
    return FAMILIES[request.param]
