"""The Diffusion and Compare tabs: handlers with a tiny model, the CLI, then the app through gradio_client."""

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from genlab import limits
from genlab.cli import main as cli
from genlab.eval import compare
from genlab.registry import FAMILIES
from genlab.ui.outputs import OutputFiles
from genlab.ui.store import ModelStore
from genlab.ui.tabs import compare as compare_tab, diffusion as diffusion_tab

from conftest import tiny


class TinyStore:
    """A tiny untrained diffusion model; fails loudly when a handler loads it for a bad request."""

    def __init__(self, allow: bool = True):
        self.allow, self.model = allow, None

    def choose(self, name, choice, session):
        assert self.allow, f"model {name!r} was loaded for an invalid request"
        self.model = self.model or tiny(FAMILIES[name]).eval()
        return self.model


def test_sampling_streams_frames_then_the_scrubber_and_a_gif(tmp_path):
    outputs = OutputFiles()
    updates = list(diffusion_tab.denoise_stream(TinyStore(), outputs, limits.LOCAL, "mix", 4, 0, "ddim", 6, 2.0))
    assert len(updates) >= 2  # at least the first live frame and the finished one
    first, last = updates[0], updates[-1]
    assert "step **1 / 6**" in first[1] and "Done" in last[1]
    picture, _, kept, scrubber, gif, download = last
    assert picture.dtype == np.uint8 and picture.shape[1] > 2 * picture.shape[0]  # x_t | x_0, side by side
    assert len(kept) == 6 and scrubber.maximum == 5 and gif == download
    animation = Image.open(gif)
    assert animation.format == "GIF" and animation.n_frames == 6
    shown, caption = diffusion_tab.scrub(kept, 0)
    assert caption == f"step 1 (t = {kept[0][1]})" and shown.shape == picture.shape


@pytest.mark.parametrize("args, message", [
    (("3", 100, 0, "ddim", 25, 2.0), "number of samples must be from 1 to 64"),
    (("3", 4, 0, "dpm++", 1000, 2.0), "steps for dpm\\+\\+ must be from 1 to 200"),
    (("3", 4, 0, "ddim", 25, -1.0), "guidance must be from 0 to 10"),
])
def test_bad_requests_are_refused_before_any_model_work(args, message):
    with pytest.raises(ValueError, match=message):
        next(diffusion_tab.denoise_stream(TinyStore(allow=False), OutputFiles(), limits.LOCAL, *args))


@pytest.mark.parametrize("request_, allowed", [
    (("mix", 64, 0, "ddpm", 1000, 2.0), False),
    (("mix", 64, 0, "ddim", 100, 2.0), False),  # guidance doubles the network evaluations
    (("mix", 64, 0, "ddim", 50, 2.0), True),
    (("mix", 64, 0, "ddim", 100, 1.0), True),  # guidance 1: one branch
    (("none", 64, 0, "ddim", 100, 2.0), True),  # no label: guidance is moot, one branch
])
def test_public_servers_cap_the_network_evaluations_of_one_request(request_, allowed):
    stream = diffusion_tab.denoise_stream(TinyStore(allow=allowed), OutputFiles(), limits.PUBLIC, *request_)
    if allowed:
        assert next(stream)
    else:
        with pytest.raises(ValueError, match="network evaluations, more than this server allows per request "
                                             r"\(6,400\)"):
            next(stream)


def test_compare_shows_every_image_family_with_its_figures():
    store = ModelStore("cpu")
    *grids, table = compare_tab.compare_digits(store, "7", 2, 0)
    assert len(grids) == len(compare.image_families()) == 3
    assert all(g is not None and g.dtype == np.uint8 for g in grids)
    for family in compare.image_families():
        assert family.title in table
    assert "unconditional: kept" in table  # the VAE says how it got a 7
    with pytest.raises(ValueError, match="choose 0-9"):
        compare.compare_request("mix", 2, 0)


def test_cli_samples_diffusion_like_the_other_image_families(tmp_path):
    out = tmp_path / "x.npy"
    argv = ["sample", "diffusion", "--digit", "3", "--n", "4", "--scheduler", "ddim", "--steps", "4", "--out", str(out)]
    assert cli.main(argv) == 0
    samples = np.load(out, allow_pickle=False)
    assert samples.shape == (4, 28, 28) and samples.dtype == np.float32
    assert 0 <= samples.min() and samples.max() <= 1
    again = tmp_path / "y.npy"
    assert cli.main(argv[:-1] + [str(again)]) == 0
    assert np.array_equal(samples, np.load(again))  # same seed, same digits


@pytest.mark.parametrize("argv, message", [
    (["sample", "gan", "--scheduler", "ddim", "--out", "x.png"], "--scheduler is for diffusion"),
    (["sample", "diffusion", "--steps", "300", "--out", "x.png"], "steps for sde-dpm\\+\\+ must be from 1 to 200"),
])
def test_sampler_flags_are_checked(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) != 0
    assert message.replace("\\", "") in capsys.readouterr().err


def test_client_streams_diffusion_frames_and_compares(server):
    client = Client(server, verbose=False, analytics_enabled=False)
    job = client.submit("5", 2, 0, "ddim", 5, 2.0, "pretrained", api_name="/diffusion_sample")
    updates = list(job)
    assert updates and "Done" in updates[-1][1]
    assert str(updates[-1][4]).endswith(".gif")
    *grids, table = client.predict("5", 2, 0, api_name="/compare")
    assert len(grids) == 3 and "FID / floor" in table
