"""Clicking the VAE's latent map: a click decodes exactly the latent under it, outside clicks are refused."""

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import images
from genlab.params import RequestError
from genlab.ui.digit_input import ReferenceDigits
from genlab.ui.outputs import OutputFiles
from genlab.ui.store import ModelStore
from genlab.ui.tabs import vae as vae_tab, vae_point

from conftest import no_model_work


@pytest.fixture(scope="module")
def models():
    return vae_point.ClickModels(ModelStore("cpu"), vae_tab.Encodings(ReferenceDigits()))


def pixel_of(x, y):
    """Where genlab.images.scatter draws map point (x, y) on the map picture."""
    last, extent = vae_point.MAP_SIZE - 1, vae_point.MAP_EXTENT
    return [(x / extent + 1) / 2 * last, (1 - y / extent) / 2 * last]


def test_decoding_a_clicked_point_equals_the_decoder_on_that_latent(models):
    model, plane = models.get("pretrained", None)
    picture, x, y, text, clicks = vae_point.click(models, [300, 120], [], "pretrained", None)
    u, v = (300 / 439 * 2 - 1) * 2.5, (1 - 120 / 439 * 2) * 2.5  # the inverse of images.scatter's placement
    z = plane.origin + (torch.tensor([u, v]) * plane.spread) @ plane.axes  # (D,) the map point, lifted
    with torch.no_grad():
        expected = images.grid(model.decode(z[None]), columns=1, scale=vae_point.POINT_SCALE, pad=0)
    assert picture.shape == (224, 224) and picture.dtype == np.uint8
    assert np.array_equal(picture, expected)
    assert (x, y) == pytest.approx((u, v), abs=1e-3) and x > 0 and y > 0
    assert "Click a second point" in text and clicks == [[u, v]]


def test_a_digit_drawn_on_the_map_is_found_again_where_it_is_drawn(models):
    model, plane = models.get("pretrained", None)
    z = vae_tab.vae.encode(model, ReferenceDigits().get().images[:5])  # (5, D)
    uv = plane.project(z) / plane.spread  # (5, 2) what the map draws, in standard deviations
    for u, v in uv.tolist():
        if max(abs(u), abs(v)) < vae_point.MAP_EXTENT:
            x, y = vae_point.point_of_pixel(pixel_of(u, v))
            assert (x, y) == pytest.approx((u, v), abs=1e-5)
            assert plane.project(vae_point.latent_at(plane, x, y))[0] / plane.spread == \
                pytest.approx(torch.tensor([u, v]), abs=1e-4)


def test_a_public_decode_gives_the_clicked_digit(models):
    x, y = vae_point.point_of_pixel([50, 400])
    clicked = vae_point.click(models, [50, 400], [], "pretrained", None)[0]
    assert np.array_equal(vae_point.decode_point(models, x, y, "pretrained", None), clicked)


@pytest.mark.parametrize("call, message", [
    (lambda m: vae_point.decode_point(m, 2.6, 0), r"the point \(2.6, 0\) is outside the map: x and y must be from "
                                                  r"-2.5 to 2.5"),
    (lambda m: vae_point.decode_point(m, 0, float("nan")), "y must be a finite number"),
    (lambda m: vae_point.decode_point(m, "1", 0), "x must be a finite number"),
    (lambda m: vae_point.click(m, [100, 450], []), "click inside the map's square"),
    (lambda m: vae_point.click(m, [-1, 10], []), "click inside the map's square"),
    (lambda m: vae_point.click(m, None, []), r"a click on the map gives a pixel \[column, row\]"),
])
def test_points_outside_the_map_are_refused_before_model_work(call, message):
    class NoModels:
        def get(self, *args):
            raise AssertionError("a model was used for a refused point")
    with no_model_work() as work, pytest.raises(RequestError, match=message):
        call(NoModels())
    assert work["forward calls"] == 0


def test_two_clicks_make_a_walk_with_a_strip_and_a_gif(models):
    outputs = OutputFiles()
    assert vae_point.click_path(models, outputs, [[0.0, 0.0]], "pretrained", None) == (None, None)
    first = vae_point.click(models, [20, 20], [], "pretrained", None)
    second = vae_point.click(models, [420, 420], first[-1], "pretrained", None)
    clicks = second[-1]
    assert len(clicks) == 2 and clicks[0] == first[-1][0] and "walks from your previous click" in second[3]
    strip, gif = vae_point.click_path(models, outputs, clicks, "pretrained", None)
    assert strip.shape == ((28 + 4) * 3, (vae_point.PATH_STEPS * 30 + 2) * 3)
    assert Image.open(gif).n_frames == 2 * vae_point.PATH_STEPS - 2  # forward and back
    third = vae_point.click(models, [200, 200], clicks, "pretrained", None)
    assert third[-1][0] == clicks[1] and len(third[-1]) == 2  # only the last two clicks are kept
