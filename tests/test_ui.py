"""The GAN tab: handlers called directly, then the running app through gradio_client."""

import numpy as np
import pytest
import torch
from gradio_client import Client
from PIL import Image

from genlab import images
from genlab.models import sampling
from genlab.params import RequestError
from genlab.train.loop import NonFiniteLoss
from genlab.ui.errors import user_errors
from genlab.ui.outputs import OutputFiles
from genlab.ui.store import ModelStore
from genlab.ui.tabs import gan as gan_tab


@pytest.fixture(scope="module")
def store():
    return ModelStore("cpu")


class NoModels:
    """A store that fails loudly if a handler touches a model."""

    def get(self, name):
        raise AssertionError(f"model {name!r} was loaded for an invalid request")


def test_grid_is_crisp_and_deterministic(store):
    first = gan_tab.sample_grid(store, "mix", 20, 5, 0)
    assert first.dtype == np.uint8 and first.shape == ((2 * 30 + 2) * 3, (10 * 30 + 2) * 3)
    assert np.array_equal(first, gan_tab.sample_grid(store, "mix", 20, 5, 0))
    assert not np.array_equal(first, gan_tab.sample_grid(store, "mix", 20, 6, 0))
    # nearest-neighbour upscaling: every 3x3 block is one value
    assert np.array_equal(first[::3, ::3].repeat(3, 0).repeat(3, 1), first)


@pytest.mark.parametrize("args, message", [
    (("11", 4, 0, 0), "digit must be 0-9"),
    (("3", 10000, 0, 0), "from 1 to 100"),
    (("3", 4, -1, 0), "seed must be from 0"),
    (("3", 4, 0, 7), "truncation must be from 0.1 to 3"),
])
def test_invalid_input_is_refused_before_any_model_work(args, message):
    with pytest.raises(ValueError, match=message):
        gan_tab.sample_grid(NoModels(), *args)
    with pytest.raises(ValueError, match=message):
        gan_tab.judge_verdicts(NoModels(), *args)


def test_judge_verdicts_caption_every_sample(store):
    picture, summary = gan_tab.judge_verdicts(store, "4", 9, 0, 0)
    assert isinstance(picture, Image.Image) and picture.mode == "RGB"
    assert summary.startswith("**The judge agrees on ")
    agreed = int(summary.split()[4])
    assert agreed >= 8  # the shipped GAN makes 4s the judge recognises


def test_sample_draws_a_new_seed_unless_it_is_pinned(monkeypatch):
    draws = iter([17, 42])
    monkeypatch.setattr(gan_tab.random, "randrange", lambda high: next(draws))
    assert gan_tab.fresh_seed(5, pinned=True) == 5
    assert gan_tab.fresh_seed(5, pinned=False) == 17
    assert gan_tab.fresh_seed(17, pinned=False) == 42


def test_interpolation_strip_and_gif(store):
    outputs = OutputFiles()
    strip, download = gan_tab.interpolation(store, outputs, "3", 0, 1, 6, 0)
    assert strip.shape == ((28 + 4) * 3, (6 * 30 + 2) * 3)
    assert download.startswith(str(outputs.folder)) and download.endswith(".gif")
    gif = Image.open(download)
    assert gif.format == "GIF" and gif.n_frames == 6 + 4  # forward, then back without repeating the ends
    with pytest.raises(ValueError, match="steps must be from 2 to 32"):
        gan_tab.interpolation(NoModels(), outputs, "3", 0, 1, 500, 0)


def test_every_gan_endpoint_works_from_gradio_client(server, tmp_path):
    client = Client(server, analytics_enabled=False, verbose=False, download_files=str(tmp_path))
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/gan_sample", "/gan_judge", "/gan_interpolate"} <= names
    grid = client.predict("7", 16, 0, 0, api_name="/gan_sample")
    assert Image.open(grid).size == ((4 * 30 + 2) * 3, (4 * 30 + 2) * 3)
    verdicts, summary = client.predict("7", 16, 0, 0, api_name="/gan_judge")
    assert "The judge agrees" in summary
    strip, gif = client.predict("2", 0, 9, 4, 0, api_name="/gan_interpolate")
    assert Image.open(gif).format == "GIF"


def test_gradio_client_sees_the_valid_range_for_bad_input(server):
    client = Client(server, analytics_enabled=False, verbose=False)
    # the slider's own bound or ours, whichever checks first: both name the limit
    with pytest.raises(Exception, match="(from 1 to 100|maximum value 100)"):
        client.predict("7", 10000, 0, 0, api_name="/gan_sample")
    with pytest.raises(Exception, match="(digit must be 0-9|not in the list of choices)"):
        client.predict("11", 4, 0, 0, api_name="/gan_judge")
    with pytest.raises(Exception, match="(seed must be from 0|less than minimum value 0)"):
        client.predict("3", 4, -5, 0, api_name="/gan_sample")
    # inside the slider's range but outside ours: only the handler's check can catch it
    with pytest.raises(Exception, match="truncation must be from 0.1 to 3, got 0.05"):
        client.predict("3", 4, 0, 0.05, api_name="/gan_sample")


def test_the_direct_run_api_that_bypasses_the_queue_is_closed(server):
    import json
    import urllib.error
    import urllib.request
    body = json.dumps({"data": ["7", 4, 0, 0]}).encode()
    request = urllib.request.Request(server.rstrip("/") + "/gradio_api/run/gan_sample", data=body,
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code in (403, 404)


def test_interpolation_gifs_do_not_pile_up(store):
    outputs = OutputFiles(keep=3)
    for seed in range(5):
        gan_tab.interpolation(store, outputs, "3", seed, seed + 1, 2, 0)
    assert len(list(outputs.folder.glob("*.gif"))) == 3


def test_batched_users_get_exactly_the_grids_they_would_get_alone(store):
    asks = [("mix", 20, 5, 0), ("3", 7, 1, 1.5), ("mix", 20, 5, 0), ("9", 1, 2, 0)]
    grids, = gan_tab.sample_grids(store, *zip(*asks), ["pretrained"] * 4, [None] * 4)
    for (digit, n, seed, truncation), grid in zip(asks, grids):
        request = sampling.digit_request(digit, n, seed, truncation or None)
        alone = images.grid(sampling.sample_digits(store.get("gan"), request), columns=sampling.columns_for(request),
                            scale=3)
        assert grid.shape == alone.shape
        assert np.abs(grid.astype(int) - alone).max() <= 1  # batch size may change float rounding, not digits


def test_a_batch_of_bad_requests_is_refused_before_any_model_work():
    with pytest.raises(ValueError, match="number of samples must be from 1 to 100"):
        gan_tab.sample_grids(NoModels(), ["3", "3"], [0, 1000], [0, 0], [0, 0], ["pretrained"] * 2, [None] * 2)


def test_a_bad_request_never_fails_the_good_ones_batched_with_it(store):
    grids, = gan_tab.sample_grids(store, ["3", "3"], [4, 1000], [0, 0], [0, 0], ["pretrained"] * 2, [None] * 2)
    assert grids[0].shape == gan_tab.sample_grid(store, "3", 4, 0, 0).shape
    assert grids[1].shape[1] == 420 and grids[1].min() < 50 and grids[1].max() == 255  # the message, as a picture


def test_the_queue_sends_positions_on_a_timer_and_is_bounded():
    """Per-completion position messages to every waiting user cost 20% of the throughput under load."""
    import gradio as gr

    from genlab.ui.app import QUEUE_SIZE, prepare
    queue = prepare(gr.Blocks())._queue
    assert (queue.live_updates, queue.update_intervals) == (False, 1.0)
    assert (queue.max_size, queue.default_concurrency_limit) == (QUEUE_SIZE, 1)


def test_served_models_are_channels_last_and_draw_the_same_digits(store):
    from genlab import weights
    from genlab.registry import FAMILIES
    served = store.get("gan")
    conv = next(p for p in served.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    request = sampling.digit_request("mix", 20, 3, None)
    plain = sampling.sample_digits(weights.load(FAMILIES["gan"]), request)
    assert torch.allclose(sampling.sample_digits(served, request), plain, atol=1e-5)


def _raising(error):
    def handler():
        raise error

    def stream():
        yield "first"
        raise error
    return handler, stream


@pytest.mark.parametrize("error, shown", [(RequestError("seed must be 0-2147483647"), True),
                                          (NonFiniteLoss("step 4: loss became non-finite"), True),
                                          (KeyError("internal"), False)])
def test_only_errors_written_for_users_reach_them(error, shown):
    import gradio as gr
    handler, stream = _raising(error)
    for call in (user_errors(handler), lambda: list(user_errors(stream)())):
        with pytest.raises(gr.Error if shown else KeyError) as raised:
            call()
        if shown:
            assert raised.value.message == str(error)


@pytest.mark.parametrize("value", ["abc", None, [3], True])
def test_a_value_that_is_not_a_number_names_its_field(server, value):
    client = Client(server, analytics_enabled=False, verbose=False)
    with pytest.raises(Exception, match=r"Number of samples must be a finite number, got "):
        client.predict("mix", value, 0, 0, api_name="/gan_sample")


def test_a_refused_request_logs_one_line_and_no_traceback(caplog, capsys):
    import logging
    handler, _ = _raising(RequestError("seed must be 0-2147483647"))
    with caplog.at_level(logging.INFO, logger="genlab"), pytest.raises(Exception) as raised:
        user_errors(handler)()
    assert [r.getMessage() for r in caplog.records] == ["refused a request: seed must be 0-2147483647"]
    assert raised.value.print_exception is False  # Gradio prints no traceback for it


def test_a_handler_binds_its_arguments_keeps_streams_and_shows_user_errors():
    import inspect

    import gradio as gr

    from genlab.ui import handlers

    def grid(store, n):
        if n < 1:
            raise RequestError("Number of samples must be 1-64")
        return store, n

    def stream(store, n):
        yield store
        yield n
    assert handlers.handler(grid, "store")(3) == ("store", 3)
    streaming = handlers.handler(stream, "store", gpu_seconds=20)
    assert inspect.isgeneratorfunction(streaming) and list(streaming(4)) == ["store", 4]  # Gradio streams it
    with pytest.raises(gr.Error, match="Number of samples must be 1-64"):
        handlers.handler(grid, "store", gpu_seconds=20)(0)


@pytest.mark.parametrize("scale", [2, 3])
def test_annotated_grid_captions_are_whole_within_their_cell(scale):
    digits = -torch.ones(3, 1, 28, 28)
    picture = np.asarray(images.annotated_grid(digits, ["8 100%", "3 57%", "1 9%"], [False, True, True],
                                               columns=3, scale=scale))
    cell, pad = 28 * scale, 6
    band = picture[pad + cell + 3:]  # the caption rows under the digits
    inked = np.flatnonzero((band != 255).any(axis=2).any(axis=0))  # columns with caption ink
    assert len(inked) > 0
    for column in inked:
        assert (column - pad) % (cell + pad) < cell + 2  # never in the white gap between cells
