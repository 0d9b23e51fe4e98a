"""The VAE tab's handlers: reconstruction, interpolation, the latent map and prior samples."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genlab.models import vae
from genlab.params import RequestError
from genlab.ui.digit_input import SOURCES, ReferenceDigits, build_input
from genlab.ui.outputs import OutputFiles
from genlab.ui.store import ModelStore
from genlab.ui.tabs import vae as vae_tab


@pytest.fixture(scope="module")
def store():
    return ModelStore("cpu")


@pytest.fixture(scope="module")
def test_digits():
    return ReferenceDigits()


def picker(source=SOURCES[0], index=0, digit="3", seed=0, upload=None, sketch=None):
    return [source, index, digit, seed, upload, sketch]


class NoModels:
    def choose(self, *args):
        raise AssertionError("a model was used for an invalid request")


def test_reconstruction_shows_original_reconstruction_and_error(store, test_digits):
    picture, text = vae_tab.reconstruction(store, test_digits, *picker(index=5), "pretrained", None)
    assert picture.shape == (28 * 6, 3 * 28 * 6 + 16, 3) and picture.dtype == np.uint8
    assert "ELBO" in text and "SSIM" in text


def test_every_source_reaches_the_model(store, test_digits):
    sketch = np.full((280, 280), 255, dtype=np.uint8)
    sketch[40:240, 130:150] = 0
    image = Image.new("RGB", (90, 120), "white")
    ImageDraw.Draw(image).ellipse([20, 15, 70, 105], outline="black", width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    for values in (picker(SOURCES[1], digit="8", seed=3), picker(SOURCES[2], upload=buffer.getvalue()),
                   picker(SOURCES[3], sketch={"composite": sketch, "layers": [], "background": None})):
        picture, _ = vae_tab.reconstruction(store, test_digits, *values, "pretrained", None)
        assert picture.shape[0] == 28 * 6


@pytest.mark.parametrize("values, message", [
    (picker(index=10**6), "test digit index must be from 0 to"),
    (picker(SOURCES[1], digit="12"), "class must be from 0 to 9"),
    (picker(SOURCES[2]), "choose an image file"),
    (picker(SOURCES[2], upload=b"not an image"), "not a readable image"),
    (picker(SOURCES[3], sketch={"composite": None}), "sketchpad is empty"),
    (picker(SOURCES[3], sketch={"composite": np.full((280, 280), 255, np.uint8)}), "looks empty"),
    (picker("telepathy"), "source must be one of"),
])
def test_bad_inputs_get_clear_messages_before_model_work(test_digits, values, message):
    with pytest.raises(RequestError, match=message):
        vae_tab.reconstruction(NoModels(), test_digits, *values, "pretrained", None)


def sketch_payload(**files):
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData
    return EditorData(**{k: FileData(path=str(v)) for k, v in files.items()})


def sketchpad():
    import gradio as gr
    with gr.Blocks():
        return build_input("t", "t")[-1]


def test_the_sketchpad_hands_over_its_file_undecoded(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (13000, 13000), 1).save(bomb)  # tiny on disk, 169 million pixels
    converted = []  # gr.Sketchpad converts every image to its image_mode, which decodes it in full
    real_convert = Image.Image.convert

    def convert(self, *args, **kwargs):
        converted.append(self.size)
        return real_convert(self, *args, **kwargs)
    monkeypatch.setattr(Image.Image, "convert", convert)
    value = sketchpad().preprocess(sketch_payload(composite=bomb))
    assert value["composite"] == str(bomb) and converted == []  # the handler checks the size first
    with pytest.raises(RequestError, match=r"image too large: 13000 x 13000 pixels"):
        vae_tab.reconstruction(NoModels(), None, *picker(SOURCES[3], sketch=value), "pretrained", None)
    assert converted == []


def test_a_drawn_sketch_reaches_the_model_through_the_component(store, test_digits, tmp_path):
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))  # what the canvas exports: ink on transparency
    ImageDraw.Draw(canvas).line([(80, 60), (200, 60), (120, 230)], fill=(0, 0, 0, 255), width=18)
    canvas.save(tmp_path / "sketch.png")
    value = sketchpad().preprocess(sketch_payload(composite=tmp_path / "sketch.png"))
    picture, text = vae_tab.reconstruction(store, test_digits, *picker(SOURCES[3], sketch=value), "pretrained", None)
    assert picture.shape[0] == 28 * 6 and "SSIM" in text


def test_interpolation_strip_and_gif(store, test_digits):
    outputs = OutputFiles()
    strip, gif = vae_tab.interpolation(store, test_digits, outputs, *picker(index=0), *picker(index=1),
                                       5, "linear", "pretrained", None)
    assert strip.shape == ((28 + 4) * 3, (5 * 30 + 2) * 3)
    assert Image.open(gif).n_frames == 5 + 3
    with pytest.raises(RequestError, match="interpolation must be one of spherical, linear"):
        vae_tab.interpolation(NoModels(), test_digits, outputs, *picker(), *picker(), 5, "wiggly", "pretrained", None)


def test_latent_map_marks_the_input_and_decodes_a_grid(store, test_digits):
    picture, grid, text = vae_tab.latent_map(store, test_digits, vae_tab.Encodings(test_digits), *picker(index=3),
                                             "pretrained", None)
    assert picture.size == (440, 462)
    assert grid.shape == (15 * 28 * 2, 15 * 28 * 2)
    assert "principal components" in text


def test_the_map_plane_is_exact_for_two_dimensional_latents():
    import torch
    z = torch.randn(500, 2)
    plane = vae.plane_of(z)
    assert plane.exact and torch.allclose(plane.project(z), z)
    wide = vae.plane_of(torch.randn(500, 8) * torch.tensor([5.0, 1, 1, 1, 1, 1, 1, 3]))
    assert not wide.exact and abs(float(wide.axes[0, 0])) > 0.99  # the widest direction comes first


def test_prior_samples(store):
    grid = vae_tab.prior_samples(store, 20, 0, "pretrained", None)
    assert grid.shape == ((2 * 30 + 2) * 3, (10 * 30 + 2) * 3)
    assert np.array_equal(grid, vae_tab.prior_samples(store, 20, 0, "pretrained", None))


def test_vae_endpoints_work_from_gradio_client(server, tmp_path):
    from gradio_client import Client
    client = Client(server, analytics_enabled=False, verbose=False, download_files=str(tmp_path))
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/vae_reconstruct", "/vae_map", "/vae_interpolate", "/vae_sample"} <= names
    picture, text = client.predict(SOURCES[0], 7, "3", 0, None, None, "pretrained", api_name="/vae_reconstruct")
    assert Image.open(picture).size == (3 * 28 * 6 + 16, 28 * 6) and "SSIM" in text
    grid = client.predict(16, 4, "pretrained", api_name="/vae_sample")
    assert Image.open(grid).size == ((10 * 30 + 2) * 3, (2 * 30 + 2) * 3)
    with pytest.raises(Exception, match="test digit index must be from 0 to"):
        client.predict(SOURCES[0], 10**6, "3", 0, None, None, "pretrained", api_name="/vae_reconstruct")


def test_vae_endpoints_take_named_parameters_and_need_no_file_for_a_test_digit(server, tmp_path):
    from gradio_client import Client
    client = Client(server, analytics_enabled=False, verbose=False, download_files=str(tmp_path))
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    parameters = {p["parameter_name"]: p for p in api["/vae_reconstruct"]["parameters"]}
    assert list(parameters) == ["source", "index", "digit", "seed", "upload", "sketch", "model"]
    assert all(p["parameter_has_default"] for name, p in parameters.items() if name != "source")
    assert [r["label"] for r in api["/vae_reconstruct"]["returns"]] == ["original | reconstruction | error",
                                                                        "ELBO and SSIM"]
    assert "b_index" in {p["parameter_name"] for p in api["/vae_interpolate"]["parameters"]}
    picture, text = client.predict(source=SOURCES[0], index=7, api_name="/vae_reconstruct")
    assert "SSIM" in text


def test_a_bomb_sent_over_the_api_is_refused_by_its_size(server, tmp_path):
    from gradio_client import Client, handle_file
    bomb = tmp_path / "bomb.png"
    Image.new("1", (13000, 13000), 1).save(bomb)
    client = Client(server, analytics_enabled=False, verbose=False, download_files=str(tmp_path))
    sketch = {"background": None, "layers": [], "composite": handle_file(str(bomb))}
    for values in ([SOURCES[3], 0, "3", 0, None, sketch], [SOURCES[2], 0, "3", 0, handle_file(str(bomb)), None]):
        with pytest.raises(Exception, match=r"image too large: 13000 x 13000 pixels"):
            client.predict(*values, "pretrained", api_name="/vae_reconstruct")
