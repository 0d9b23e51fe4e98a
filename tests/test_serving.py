"""Serving speed without changed answers: exact batching, the fast PNG path, the start-up warm-up."""

import io
import logging
import threading

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from genlab import images
from genlab.params import RequestError
from genlab.ui.pictures import picture
from genlab.ui.store import ModelStore
from genlab.ui.tabs import gan as gan_tab


@pytest.fixture(scope="module")
def store():
    return ModelStore("cpu")


def test_a_batched_request_gets_exactly_the_grid_it_gets_alone(store):
    asks = [("mix", 20, 5, 0), ("3", 7, 1, 1.5), ("mix", 33, 5, 0), ("9", 1, 2, 0), ("mix", 100, 8, 0.7)]
    grids, = gan_tab.sample_grids(store, *zip(*asks), ["pretrained"] * len(asks), [None] * len(asks))
    for (digit, n, seed, truncation), grid in zip(asks, grids):
        assert np.array_equal(grid, gan_tab.sample_grid(store, digit, n, seed, truncation))


def test_batching_is_on_by_default_and_bounded(monkeypatch):
    monkeypatch.delenv("GENLAB_MAX_BATCH", raising=False)
    assert gan_tab.max_batch() == gan_tab.MAX_BATCH > 1
    monkeypatch.setenv("GENLAB_MAX_BATCH", "1")
    assert gan_tab.max_batch() == 1
    monkeypatch.setenv("GENLAB_MAX_BATCH", "65")
    with pytest.raises(RequestError, match="GENLAB_MAX_BATCH"):
        gan_tab.max_batch()


@pytest.mark.parametrize("mode, size_vs_default", [("L", 1.0), ("RGB", 1.3)])
def test_png_bytes_are_lossless_and_about_as_small_as_pillows_default(store, mode, size_vs_default):
    """Grey grids come out smaller than Pillow's default; colour pictures at most 30% larger."""
    grid = gan_tab.sample_grid(store, "mix", 40, 0, 0)
    picture_in = grid if mode == "L" else np.asarray(gan_tab.judge_verdicts(store, "mix", 40, 0, 0)[0])
    data = images.png_bytes(picture_in)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), picture_in)
    default = io.BytesIO()
    Image.fromarray(picture_in).save(default, format="PNG")
    assert len(data) < size_vs_default * len(default.getvalue())


def test_a_picture_serves_the_fast_png_from_gradios_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    with gr.Blocks():
        image = picture("Samples", "test-samples")
    grid = (np.arange(60 * 90) % 251).astype(np.uint8).reshape(60, 90)
    served = image.postprocess(grid)
    assert served.path.startswith(str(tmp_path.resolve())) and served.path.endswith(".png")
    with open(served.path, "rb") as f:
        assert f.read() == images.png_bytes(grid)
    assert image.postprocess(Image.fromarray(grid)).path == served.path  # named by content, as Gradio names files
    floats = image.postprocess(grid / 255.0)  # not uint8: Gradio's own encoder, same picture
    assert np.array_equal(np.asarray(Image.open(floats.path)), grid)


def test_a_warm_up_loads_the_model_and_a_failure_is_only_logged(caplog):
    fresh = ModelStore("cpu")
    fresh.in_background(gan_tab.judge_verdicts, "mix", 4, 0, 0).join(60)
    assert {"gan", "judge"} <= set(fresh._models)

    def broken(store):
        raise RuntimeError("no weights here")
    with caplog.at_level(logging.WARNING, logger="genlab"):
        fresh.in_background(broken).join(10)
    assert "warm-up broken failed: no weights here" in caplog.text


def test_requests_during_a_warm_up_wait_for_its_model_instead_of_loading_another(monkeypatch):
    fresh = ModelStore("cpu")
    release, loads = threading.Event(), []
    import genlab.ui.store as store_module
    real_load = store_module.weights.load

    def slow_load(*args, **kwargs):
        loads.append(args[0])
        release.wait(30)
        return real_load(*args, **kwargs)
    monkeypatch.setattr(store_module.weights, "load", slow_load)
    warm = fresh.in_background(lambda store: store.get("gan"))
    while not loads:
        threading.Event().wait(0.01)
    asked = []
    request = threading.Thread(target=lambda: asked.append(fresh.get("gan")))
    request.start()
    release.set()
    warm.join(30)
    request.join(30)
    assert len(loads) == 1 and asked[0] is fresh.get("gan")


def test_a_run_label_the_session_lacks_fails_only_its_own_batched_grid(store):
    with pytest.raises(RequestError, match="no gan run named 'nope'"):
        gan_tab.sample_grid(store, "3", 4, 0, 0, "nope", None)
    grids, = gan_tab.sample_grids(store, ["3", "3"], [4, 4], [0, 0], [0, 0], ["nope", "pretrained"], [None, None])
    assert np.array_equal(grids[1], gan_tab.sample_grid(store, "3", 4, 0, 0))
    assert np.array_equal(grids[0], images.message("no gan run named 'nope' in this session; train one in the Train tab"))
