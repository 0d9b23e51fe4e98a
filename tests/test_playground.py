"""The Playground: 2-D data, the KL/JS measure, its three models learning through the one training
loop, the GAN's one-sided steps, determinism, bounds, and the handlers the tab wires."""

import numpy as np
import pytest
import torch

from conftest import no_model_work
from genlab.data import datasets, points2d
from genlab.eval import density2d
from genlab.models.gan_losses import OBJECTIVES
from genlab.models.playground import PLAYGROUND_FAMILIES
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.ui import playground_api as api
from genlab.ui import playground_frames, playground_session
from genlab.ui.playground_session import PlaygroundRun, playground_request

GAN_CONFIG = {"objective": "non-saturating", "d_steps": 1, "d_lr_scale": 1.0, "width": 64, "depth": 2,
              "spectral_norm": False}


# --- data and the divergences


@pytest.mark.parametrize("shape", points2d.CHOICES)
def test_every_data_set_lies_in_the_domain_and_is_seeded(shape):
    drawn = [[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]] if shape == points2d.DRAWN else None
    a = points2d.load_points(shape=shape, drawn=drawn, seed=3)
    assert a.points.shape == (points2d.SET_SIZE, 2) and a.points.dtype == np.float32
    assert np.abs(a.points).max() <= points2d.DOMAIN
    assert np.array_equal(a.points, points2d.load_points(shape=shape, drawn=drawn, seed=3).points)
    assert not np.array_equal(a.points, points2d.load_points(shape=shape, drawn=drawn, seed=4).points)


def test_batches_are_endless_seeded_and_skip_like_an_uninterrupted_run():
    data = datasets.DATASETS["points2d"].load("train")
    batches = datasets.DATASETS["points2d"].batches(data, 16, seed=5)
    first = [next(batches) for _ in range(3)]
    assert first[0].shape == (16, 2)
    resumed = datasets.DATASETS["points2d"].batches(data, 16, seed=5, skip=2)
    assert torch.equal(next(resumed), first[2])


def test_divergence_of_a_density_with_itself_is_zero_and_of_disjoint_ones_is_the_most():
    ring = points2d.load_points(shape="ring").points
    p = density2d.density(ring)
    assert density2d.kl(p, p) == pytest.approx(0, abs=1e-5) and density2d.js(p, p) == 0
    left = np.random.default_rng(0).uniform([-2, -2], [-1, 2], (500, 2))
    right = np.random.default_rng(1).uniform([1, -2], [2, 2], (500, 2))
    p, q = density2d.density(left), density2d.density(right)
    assert density2d.js(p, q) == pytest.approx(density2d.JS_MAX)
    assert density2d.kl(p, q) == pytest.approx(density2d.kl_ceiling(p))
    # in between: a shifted ring is neither
    kl, js = density2d.divergences(ring, ring + [0.3, 0])
    assert 0 < js < density2d.JS_MAX and 0 < kl < density2d.kl_ceiling(density2d.density(ring))


# --- the models, trained through the one loop


# steps and how far KL and JS must fall from the untrained model's, on the ring, seed 0
LEARNS = {"gan": (600, {}, {}), "vae": (300, {}, {}), "flow": (400, {"lr": 5e-3}, {})}


@pytest.mark.parametrize("model", list(PLAYGROUND_FAMILIES))
def test_each_model_learns_the_ring(model):
    steps, controls, config = LEARNS[model]
    run = PlaygroundRun(playground_request(model, "ring", controls, config))
    api.frame(run, 1.0)
    run.advance(steps)
    api.frame(run, 1.0)
    (_, kl0, js0, _), (_, kl1, js1, _) = run.history
    assert run.step == steps
    assert kl1 < kl0 / 5 and js1 < js0 / 2.5, run.history


def test_playground_families_stay_out_of_the_registry_and_plug_in_everywhere():
    registered = {f.model_cls for f in FAMILIES.values()}
    assert not {f.model_cls for f in PLAYGROUND_FAMILIES.values()} & registered
    assert set(playground_frames.FRAMES) == set(PLAYGROUND_FAMILIES)
    assert all(f.data == "points2d" for f in PLAYGROUND_FAMILIES.values())


def _weights(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(before, module):
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


@pytest.mark.parametrize("update, d_moves, g_moves", [("both", True, True), ("discriminator", True, False),
                                                      ("generator", False, True)])
def test_gan_steps_change_only_the_networks_they_name(update, d_moves, g_moves):
    run = PlaygroundRun(playground_request("gan", "ring", {}, GAN_CONFIG))
    run.advance(1)  # the optimisers exist from here on
    d, g = _weights(run.model.discriminator), _weights(run.model.generator)
    run.advance(1, update)
    assert _changed(d, run.model.discriminator) == d_moves and _changed(g, run.model.generator) == g_moves
    assert run.model.update == "both" and run.step == 2  # one step of the loop, then back to normal


def test_one_sided_steps_are_refused_for_models_without_sides():
    run = PlaygroundRun(playground_request("vae", "ring"))
    with pytest.raises(RequestError, match="update must be one of both"):
        run.advance(1, "discriminator")


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_every_objective_trains_and_draws(objective):
    run = PlaygroundRun(playground_request("gan", "8 gaussians", {}, {**GAN_CONFIG, "objective": objective,
                                                                     "spectral_norm": objective == "wasserstein"}))
    run.advance(3)
    main, side, chart, status = api.frame(run, 1.0)
    assert main.shape == side.shape == (360, 360, 3) and chart.ndim == 3 and "step 3" in status


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    def trained(seed):
        slot = {}
        api.playground_view(slot, "gan", "two moons", {"seed": seed})
        for update in ("both", "discriminator", "generator"):
            pictures = api.playground_step(slot, "gan", "two moons", {"seed": seed}, update=update)
        return _weights(slot["run"].model), pictures

    (a, pa), (b, pb), (c, _) = trained(7), trained(7), trained(8)
    assert all(torch.equal(a[k], b[k]) for k in a) and np.array_equal(pa[0], pb[0]) and pa[3] == pb[3]
    assert any(not torch.equal(a[k], c[k]) for k in a)


# --- the handlers: reuse, bounds, messages


def test_a_run_is_kept_while_the_settings_stay_and_replaced_when_they_change():
    slot = {}
    api.playground_step(slot, "vae", "ring")
    first = slot["run"]
    api.playground_step(slot, "vae", "ring", {"steps_per_frame": 7})  # not part of the model
    assert slot["run"] is first and first.step == 2
    *_, status = api.playground_view(slot, "vae", "spiral")
    assert slot["run"] is not first and "new model" in status and slot["run"].step == 0
    *_, status = api.playground_reset(slot, "vae", "spiral")
    assert slot["run"].step == 0 and "reset" in status


@pytest.mark.parametrize("call, message", [
    (lambda: playground_request("gan", "swirl"), "data set must be one of ring"),
    (lambda: playground_request("transformer", "ring"), "model must be one of gan, vae, flow"),
    (lambda: playground_request("gan", points2d.DRAWN, drawn=[[0, 0]] * (points2d.MAX_DRAWN + 1)),
     f"at most {points2d.MAX_DRAWN} drawn points"),
    (lambda: playground_request("gan", points2d.DRAWN, drawn=[[0, 0], [1, 1]]), "click at least 3 points"),
    (lambda: playground_request("gan", points2d.DRAWN, drawn=[[0, 0], [1, 1], [5, 0]]), r"lie in \[-2, 2\]"),
    (lambda: playground_request("gan", "ring", {"steps_per_frame": 51}), "steps_per_frame must be from 1 to 50"),
    (lambda: playground_request("gan", "ring", {"lr": 1.0}), "lr must be from"),
    (lambda: playground_request("gan", "ring", {"epochs": 3}), "unknown PlaygroundControls fields: epochs"),
    (lambda: playground_request("gan", "ring", config={"objective": "magic"}), "objective must be one of"),
    (lambda: api.playground_step({}, "gan", "ring", time=2.0), "time t must be from 0 to 1"),
    (lambda: playground_request("gan", "ring", "fast"), "controls must be an object"),
    (lambda: playground_request(["gan"], "ring"), "model must be one of"),
    (lambda: playground_request("gan", points2d.DRAWN, drawn="everywhere"), "drawn points must be a list"),
])
def test_bad_requests_are_refused_with_the_limit_before_any_model_work(call, message):
    with no_model_work() as work, pytest.raises(RequestError, match=message):
        call()
    assert work == {"forward calls": 0, "real parameters": 0}


def test_drawing_adds_points_in_plane_coordinates_up_to_the_limit():
    picture, drawn = api.add_point([], api.CANVAS / 2, 0)  # top centre
    assert drawn == [[0.0, points2d.DOMAIN]] and picture.shape == (api.CANVAS, api.CANVAS, 3)
    full = [[0.0, 0.0]] * points2d.MAX_DRAWN
    with pytest.raises(RequestError, match=f"at most {points2d.MAX_DRAWN} drawn points"):
        api.add_point(full, 10, 10)
    *_, status = api.playground_view({}, "gan", points2d.DRAWN, drawn=[[0.0, 0.0]])
    assert "Click at least 3 points" in status  # while drawing, a hint rather than an error


def test_play_streams_frames_and_pauses_itself_at_its_time_limit(monkeypatch):
    monkeypatch.setattr(api, "MAX_STREAM_SECONDS", 0)
    frames = list(api.playground_train({}, "vae", "ring", {"steps_per_frame": 3}))
    assert len(frames) == 1 and "step 3" in frames[0][3] and "the limit of one Play" in frames[0][3]


def test_a_second_request_waits_then_is_refused_while_play_holds_the_model(monkeypatch):
    monkeypatch.setattr(playground_session, "BUSY_WAIT_SECONDS", 0.01)
    slot = {}
    stream = api.playground_train(slot, "vae", "ring", {"steps_per_frame": 1})
    next(stream)  # playing: the run is held between frames
    with pytest.raises(RequestError, match="press Pause first"):
        api.playground_step(slot, "vae", "ring")
    stream.close()  # Pause
    api.playground_step(slot, "vae", "ring")
    assert slot["run"].step == 2


def test_the_public_endpoints_name_their_parameters_and_refuse_bad_input(server):
    from gradio_client import Client
    client = Client(server, analytics_enabled=False, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    described = ["model", "data", "controls", "config", "drawn", "time"]
    assert [p["parameter_name"] for p in endpoints["/playground_train"]["parameters"]] == described
    assert [p["parameter_name"] for p in endpoints["/playground_step"]["parameters"]] == described + ["update"]
    main, side, chart, status = client.predict(model="gan", data="ring", update="generator",
                                               api_name="/playground_step")
    assert "step 1" in status and "G only" in status and main.endswith(".png")
    with pytest.raises(Exception, match=f"at most {points2d.MAX_DRAWN} drawn points"):
        client.predict(model="gan", data=points2d.DRAWN, drawn=[[0, 0]] * 1000, api_name="/playground_step")
