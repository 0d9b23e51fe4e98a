import contextlib
import os

import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GENLAB_DEVICE", "cpu")
# the tests must work for users without the full MNIST files: hide any configured copy
os.environ.pop("GENLAB_DATA_DIR", None)

from genlab import weights  # noqa: E402
from genlab.registry import FAMILIES  # noqa: E402

from tiny_configs import TINY  # noqa: E402

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the real user cache (or downloads into it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# original text for tests (the tiny-shakespeare corpus is never committed); 65-character vocabulary subset
TEXT = ("The night was cold, and the little ship kept on into the wind.\n"
        "KEEPER: Who goes there? Speak, and be known!\n"
        "TRAVELLER: A friend, good sir; I seek the road to Dover.\n"
        "KEEPER: Then follow the river down; it bends, and bends again, and so to the sea.\n") * 6


def training_data(family):
    """A small real training set for `family`: the bundled MNIST sample or the test text."""
    from genlab.data import corpus, mnist
    return corpus.split(TEXT, "train", "test text") if family.data == "text" else mnist.load_sample("train")


def tiny(family, seed=0):
    torch.manual_seed(seed)
    return weights.build(family, **TINY[family.name])


@pytest.fixture(params=list(FAMILIES), ids=list(FAMILIES))
def family(request):
    return FAMILIES[request.param]


def poison_step(monkeypatch, family, at_call: int, value: float = float("nan")) -> None:
    """Make the `at_call`-th training step of `family` report `value` for every loss."""
    original = family.model_cls.training_step
    calls = []

    def poisoned(self, batch, optimizers):
        calls.append(1)
        losses = original(self, batch, optimizers)
        return {k: value for k in losses} if len(calls) == at_call else losses

    monkeypatch.setattr(family.model_cls, "training_step", poisoned)


@contextlib.contextmanager
def no_model_work():
    """Counts, in this process, forward calls on real tensors and parameters allocated off the meta device.

    Checks that a request is refused before any model work without timing it."""
    work = {"forward calls": 0, "real parameters": 0}

    def forward(module, args):
        if any(isinstance(a, torch.Tensor) and a.device.type != "meta" for a in args):
            work["forward calls"] += 1

    def parameter(module, name, param):
        if param is not None and param.device.type != "meta":
            work["real parameters"] += 1

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(forward),
             torch.nn.modules.module.register_module_parameter_registration_hook(parameter)]
    try:
        yield work
    finally:
        for hook in hooks:
            hook.remove()


@pytest.fixture(scope="session")
def server():
    """One in-process app for every test that drives it over HTTP (gradio_client, the browser)."""
    from genlab.ui import build_app
    from genlab.ui.app import launch_in_process
    demo = build_app("cpu")
    yield launch_in_process(demo)
    demo.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(server, tmp_path):
    """A headless Chromium page on the app (skipped without Chromium, unless CI requires it)."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("GENLAB_REQUIRE_BROWSER"):
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=CHROMIUM_ARGS,
                                                       viewport={"width": 1300, "height": 1100})
        try:
            tab = context.new_page()
            tab.goto(server)
            yield tab
        finally:
            context.close()
