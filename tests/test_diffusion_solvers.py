"""The diffusion tab's noise-schedule plot and Compare solvers: tiny models, then the app through gradio_client."""

import dataclasses

import numpy as np
import pytest
import torch
from gradio_client import Client

from genlab import limits
from genlab.models.diffusion import schedulers, solver_comparison, viewer
from genlab.registry import FAMILIES
from genlab.ui import schedule_plot
from genlab.ui.outputs import OutputFiles
from genlab.ui.tabs import diffusion as diffusion_tab, diffusion_compare

from conftest import no_model_work, tiny


class TinyStore:
    """A tiny untrained diffusion model and judge; fails loudly when a handler loads one for a bad request."""

    def __init__(self, allow: bool = True):
        self.allow, self.models = allow, {}

    def get(self, name):
        assert self.allow, f"model {name!r} was loaded for an invalid request"
        if name not in self.models:
            self.models[name] = tiny(FAMILIES[name]).eval()
        return self.models[name]

    def choose(self, name, choice, session):
        return self.get(name)


def red_columns(picture) -> set:
    """x positions where the plot has its marker's red."""
    rgb = np.asarray(picture.convert("RGB")).astype(int)
    red = (rgb[..., 0] == schedule_plot.NOW[0]) & (rgb[..., 1] == schedule_plot.NOW[1]) & \
          (rgb[..., 2] == schedule_plot.NOW[2])
    return set(np.nonzero(red[schedule_plot.TOP + 10:].any(0))[0].tolist())  # below the caption


def test_the_schedule_comes_from_the_models_own_scheduler_config():
    model = TinyStore().get("diffusion")
    schedule = viewer.noise_schedule(model, schedulers.sampler("ddim", 10, 1.0))
    assert np.allclose(schedule.alpha_bar, model.forward_process.alphas_cumprod.double().numpy())
    assert len(schedule.alpha_bar) == model.config.train_timesteps
    assert np.all(np.diff(schedule.alpha_bar) < 0) and np.all(np.diff(schedule.log_snr) < 0)  # noise only grows
    snr = schedule.alpha_bar / (1 - schedule.alpha_bar)
    assert np.allclose(np.exp(schedule.log_snr), snr)
    assert schedule.visited.tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]  # "leading" spacing


def test_the_schedule_plot_marks_the_current_step_where_its_timestep_is():
    schedule = viewer.noise_schedule(TinyStore().get("diffusion"), schedulers.sampler("ddim", 10, 1.0))
    plain = schedule_plot.schedule_picture(schedule, "DDIM")
    assert red_columns(plain) == set()
    for t in (900, 300):
        marked = schedule_plot.schedule_picture(schedule, "DDIM", (3, 10, t))
        x = round(float(schedule_plot._x(np.array(t), len(schedule.alpha_bar))))
        columns = red_columns(marked)
        assert columns and min(columns) >= x - 6 and max(columns) <= x + 6  # a line and dots, at t
        assert marked.size == plain.size


def test_sampling_streams_the_schedule_with_each_step_marked():
    updates = list(diffusion_tab.denoise_stream(TinyStore(), OutputFiles(), limits.LOCAL,
                                                diffusion_tab.DenoiseClock(), "3", 2, 0, "ddim", 4, 1.0))
    first, last = red_columns(updates[0][5]), red_columns(updates[-1][5])
    assert first and last and min(first) > max(last)  # the first step is at a large t (right), the last at 0


def test_the_schedule_endpoint_checks_its_request_before_any_model_work():
    with no_model_work() as work, pytest.raises(ValueError, match="steps for dpm\\+\\+ must be from 1 to 200"):
        diffusion_tab.schedule_view(TinyStore(allow=False), "dpm++", 500)
    assert work["forward calls"] == 0
    picture = diffusion_tab.schedule_view(TinyStore(), "sde-dpm++", 20)
    assert picture.size[0] == schedule_plot.WIDTH


def run_comparison(seed=0, steps=2):
    return list(diffusion_compare.compare_stream(TinyStore(), limits.LOCAL, "3", 2, seed, steps, 2.0))


def test_compare_solvers_gives_every_solver_its_picture_time_and_verdict_deterministically():
    store = TinyStore()
    request = solver_comparison.comparison_request("3", 2, 0, 2, 2.0)
    runs = [list(state.results for state in solver_comparison.compare(store.get("diffusion"), store.get("judge"),
                                                                      request))[-1] for _ in range(2)]
    for results in runs:
        assert [r.solver for r in results] == ["ddpm", "ddim", "dpm++", "sde-dpm++"]
        for r in results:
            assert r.samples.shape == (2, 1, 28, 28) and r.seconds > 0
            assert len(r.predicted) == 2 and all(0 <= c <= 1 for c in r.confidence) and 0 <= r.agree <= 2
    for a, b in zip(*runs):
        assert torch.equal(a.samples, b.samples) and a.predicted == b.predicted and a.agree == b.agree
    assert not torch.equal(runs[0][0].samples, runs[0][1].samples)  # DDPM and DDIM walk back differently


def test_compare_solvers_streams_its_progress_then_a_table():
    updates = run_comparison()
    assert len(updates) >= 5  # at least one picture per solver and the final one
    assert "step 1 / 2" in updates[0][1] and "0 of 4 solvers done" in updates[0][1]
    panels, text = updates[-1]
    assert "**Done**" in text and text.count("judge agrees") == 1 and text.count(" / 2 |") == 4
    assert panels.size[0] > 4 * panels.size[1] / 2  # four solvers side by side


def test_stopping_a_comparison_runs_no_further_solver():
    store = TinyStore()
    stream = diffusion_compare.compare_stream(store, limits.LOCAL, "3", 1, 0, 50, 1.0)
    next(stream)
    stream.close()  # what Stop does to a streaming handler on the server
    with no_model_work() as work:
        assert list(stream) == []
    assert work["forward calls"] == 0


@pytest.mark.parametrize("args, message", [
    (("3", 9, 0, 10, 1.0), "number of samples must be from 1 to 8"),
    (("3", 2, 0, 101, 1.0), "steps must be from 1 to 100"),
    (("none", 2, 0, 10, 1.0), "digit must be 0-9 or 'mix'"),
    (("3", 2, 0, 10, 11.0), "guidance must be from 0 to 10"),
    (("3", 2, 0, 20, 2.0), r"8 digits x 20 steps x 2 for guidance is 320 network evaluations, more than this "
                           r"server allows per request \(100\)"),
])
def test_bad_comparisons_are_refused_before_any_model_work(args, message):
    server = dataclasses.replace(limits.PUBLIC, max_denoising=100)
    with pytest.raises(ValueError, match=message):
        next(diffusion_compare.compare_stream(TinyStore(allow=False), server, *args))


def test_client_compares_solvers_and_draws_the_schedule(server):
    client = Client(server, verbose=False, analytics_enabled=False)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/diffusion_compare_solvers", "/diffusion_schedule", "/vae_decode_point"} <= names
    updates = list(client.submit("7", 1, 0, 2, 1.0, "pretrained", api_name="/diffusion_compare_solvers"))
    assert "**Done**" in updates[-1][1] and updates[-1][1].count(" / 1 |") == 4
    assert client.predict("ddim", 10, "pretrained", api_name="/diffusion_schedule").endswith(".png")
    with pytest.raises(Exception, match="maximum value 100"):  # the slider's own check, before the handler's
        client.predict("3", 1, 0, 500, 1.0, "pretrained", api_name="/diffusion_compare_solvers")


def test_stop_says_where_the_comparison_was():
    report = "**ddim** step 5 / 100 · 1 of 4 solvers done\n\n| solver | wall time |"
    text = diffusion_compare.stopped(report)
    assert text.startswith("**Stopped** (ddim step 5 / 100") and text.endswith("| solver | wall time |")
    assert diffusion_compare.stopped("**Done**: same seed") is not None and "Stopped" not in str(
        diffusion_compare.stopped("**Done**: same seed"))
