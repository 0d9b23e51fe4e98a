"""The Diffusion and Compare tabs: handlers with a tiny model, the CLI, then the app through gradio_client."""

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

import torch

from genlab import images, limits
from genlab.cli import main as cli
from genlab.eval import compare
from genlab.models.diffusion import viewer
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
    clock = diffusion_tab.DenoiseClock()
    updates = list(diffusion_tab.denoise_stream(TinyStore(), outputs, limits.LOCAL, clock, "3", 5, 0, "ddim", 6, 2.0))
    assert len(updates) >= 2  # at least the first live frame and the finished one
    first, last = updates[0], updates[-1]
    assert "step **1 / 6**" in first[1] and "steps/s" in first[1] and "ETA" in first[1] and "Done" in last[1]
    assert first[2] == [] and first[4] is None  # the first frame clears the previous run's scrubber and GIF
    assert not first[3].interactive
    picture, status, kept, scrubber, gif, schedule = last
    assert schedule.size == updates[0][5].size  # the noise schedule, its step marked, with every frame
    assert "guidance 2" in status
    assert picture.dtype == np.uint8 and picture.shape[1] > 2 * picture.shape[0]  # x_t | x_0, side by side
    assert len(kept) == 6 and scrubber.maximum == 5
    assert clock.estimate(100) > 0  # the run was timed: the next estimate uses it
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
        next(diffusion_tab.denoise_stream(TinyStore(allow=False), OutputFiles(), limits.LOCAL,
                                             diffusion_tab.DenoiseClock(), *args))


@pytest.mark.parametrize("request_, allowed", [
    (("mix", 64, 0, "ddpm", 1000, 2.0), False),
    (("mix", 64, 0, "ddim", 100, 2.0), False),  # guidance doubles the network evaluations
    (("mix", 64, 0, "ddim", 50, 2.0), True),
    (("mix", 64, 0, "ddim", 100, 1.0), True),  # guidance 1: one branch
    (("none", 64, 0, "ddim", 100, 2.0), True),  # no label: guidance is moot, one branch
])
def test_public_servers_cap_the_network_evaluations_of_one_request(request_, allowed):
    stream = diffusion_tab.denoise_stream(TinyStore(allow=allowed), OutputFiles(), limits.PUBLIC,
                                          diffusion_tab.DenoiseClock(), *request_)
    if allowed:
        assert next(stream)
    else:
        with pytest.raises(ValueError, match="network evaluations, more than this server allows per request "
                                             r"\(6,400\)"):
            next(stream)


@pytest.mark.parametrize("digit", ["mix", "3", "none"])
def test_every_digit_is_at_least_48_px_on_a_1400_px_screen_for_every_n(digit):
    for n in range(1, viewer.MAX_SAMPLES + 1):
        request = viewer.diffusion_request(digit, n, 0, "ddim", 5, 1.0)
        grid = images.grid(torch.zeros(n, 1, 28, 28), columns=viewer.columns(request), scale=1)
        picture = viewer.pair(grid, grid)
        scale = picture.shape[0] // viewer.arranged(grid, grid).shape[0]
        px = viewer.on_screen_px(picture.shape[1] // scale, scale)
        assert px >= viewer.MIN_DIGIT_PX, (digit, n, px)


def test_a_mix_stacks_x_t_above_the_guess_and_a_few_digits_sit_side_by_side():
    mix = images.grid(torch.zeros(20, 1, 28, 28), columns=10, scale=1)
    few = images.grid(torch.zeros(4, 1, 28, 28), columns=2, scale=1)
    assert viewer.arranged(mix, mix).shape == (2 * mix.shape[0] + 6, mix.shape[1])
    assert viewer.arranged(few, few).shape == (few.shape[0], 2 * few.shape[1] + 6)


def test_the_form_says_what_a_request_costs_and_warns_when_it_is_long():
    clock = diffusion_tab.DenoiseClock()
    assert "128,000 network evaluations" in diffusion_tab.cost_text(clock, "mix", 64, "ddpm", 1000, 2.0)
    clock.record(1000, 1.0)  # 1 ms per evaluation
    assert "about 0.0 s" not in diffusion_tab.cost_text(clock, "3", 4, "ddim", 25, 1.0)
    assert "about 02:08 on this machine" in diffusion_tab.cost_text(clock, "mix", 64, "ddpm", 1000, 2.0)
    assert "no label" not in diffusion_tab.cost_text(clock, "none", 4, "ddim", 10, 2.0)
    assert "x 2 for guidance" not in diffusion_tab.cost_text(clock, "none", 4, "ddim", 10, 2.0)
    assert "must be from 1 to 64" in diffusion_tab.cost_text(clock, "mix", 99, "ddim", 10, 2.0)


def test_stop_replaces_the_progress_line_with_where_it_stopped():
    shown = "step **6 / 1000** (t = 994) · 5.1 steps/s · ETA 03:14"
    assert diffusion_tab.stopped(shown).startswith("**Stopped** at step 6 of 1000")
    assert "ETA" not in diffusion_tab.stopped(shown)


def test_an_unconditional_run_does_not_report_a_guidance_it_did_not_use():
    updates = list(diffusion_tab.denoise_stream(TinyStore(), OutputFiles(), limits.LOCAL, diffusion_tab.DenoiseClock(),
                                                "none", 2, 0, "ddim", 3, 2.0))
    assert "no label" in updates[-1][1] and "guidance" not in updates[-1][1]


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
    assert str(updates[-1][3]).endswith(".gif")  # live, status, scrubber, GIF (the kept frames stay on the server)
    assert "guidance 2" in updates[-1][1]
    *grids, table = client.predict("5", 2, 0, api_name="/compare")
    assert len(grids) == 3 and "FID / floor" in table
