"""Uploads and sketches of any kind become MNIST-like digits, or get a clear message."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genlab.data import mnist, preprocess
from genlab.params import RequestError


def drawn_seven(size=(300, 200), ink=0, paper=255, mode="L") -> Image.Image:
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.line([(w * 0.3, h * 0.2), (w * 0.7, h * 0.2), (w * 0.45, h * 0.85)], fill=ink, width=max(2, h // 12))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def assert_mnist_like(digit: np.ndarray):
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() > 200 and np.median(digit) == 0  # bright ink on a black field
    rows, cols = np.nonzero(digit > 30)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fits the 20x20 box (1 px of anti-aliasing)
    mass = np.indices(digit.shape).reshape(2, -1) @ digit.ravel() / digit.sum()
    assert np.all(np.abs(mass - 14) <= 1.5)  # centred by mass


@pytest.mark.parametrize("make", [
    lambda: drawn_seven(),  # black on white
    lambda: drawn_seven(ink=255, paper=0),  # white on black, like MNIST
    lambda: drawn_seven(mode="RGB", ink=(20, 20, 200), paper=(250, 245, 230)),  # blue ink on cream paper
    lambda: drawn_seven(size=(12, 9)),  # tiny
    lambda: drawn_seven(size=(4000, 3000)),  # huge
])
def test_pictures_of_a_digit_become_mnist_like(make):
    assert_mnist_like(preprocess.mnist_like(png(make())))


def test_rgba_with_transparent_paper():
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([50, 30, 150, 170], outline=(0, 0, 0, 255), width=14)
    assert_mnist_like(preprocess.mnist_like(png(image)))


def test_sixteen_bit_greyscale():
    array = np.full((120, 100), 60000, dtype=np.uint16)
    array[20:100, 45:55] = 1000  # a dark '1' on light 16-bit paper
    assert_mnist_like(preprocess.mnist_like(png(Image.fromarray(array))))


def test_real_mnist_digits_come_back_nearly_unchanged():
    digits = mnist.load_sample("test")
    for image in digits.images[:20]:
        again = preprocess.mnist_like(png(Image.fromarray(image)))
        assert np.abs(again.astype(int) - image.astype(int)).mean() < 25


@pytest.mark.parametrize("blob, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a readable image"),  # corrupt PNG
    (b"hello, I am a text file", "not a readable image"),
    (png(Image.new("L", (64, 64), 255)), "looks empty"),  # a blank page
    (png(Image.new("L", (64, 64), 0)), "looks empty"),
])
def test_unusable_input_gets_a_clear_message(blob, message):
    with pytest.raises(RequestError, match=message):
        preprocess.mnist_like(blob)


def test_oversized_uploads_are_refused_before_decoding():
    with pytest.raises(RequestError, match="at most 20 MB"):
        preprocess.mnist_like(b"\0" * (preprocess.MAX_BYTES + 1))


def test_sketchpad_composites_work_as_numpy_arrays():
    canvas = np.full((280, 280), 255, dtype=np.uint8)
    canvas[60:220, 130:150] = 0  # a black stroke on the white sketchpad
    assert_mnist_like(preprocess.mnist_like(canvas))


# A decompression bomb: 13000 x 13000 pixels (over MAX_PIXELS) in a tiny 1-bit PNG.
BOMB_SIZE = (13000, 13000)
BOMB_MESSAGE = r"image too large: 13000 x 13000 pixels \(at most 40,000,000\)"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    Image.new("1", BOMB_SIZE, 1).save(path)
    assert path.stat().st_size < preprocess.MAX_BYTES
    return path


@pytest.fixture
def decodes(monkeypatch):
    """Counts of full decodes and conversions of PIL images while a test runs."""
    from PIL import ImageFile
    counts = {"load": 0, "convert": 0}

    def counting(cls, name, key):
        real = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            counts[key] += 1
            return real(self, *args, **kwargs)
        monkeypatch.setattr(cls, name, wrapper)
    counting(ImageFile.ImageFile, "load", "load")
    counting(Image.Image, "load", "load")
    counting(Image.Image, "convert", "convert")
    return counts


def huge_array(shape=BOMB_SIZE):
    return np.broadcast_to(np.uint8(255), shape)  # a read-only view: no memory of its own


@pytest.mark.parametrize("source", [
    lambda path: path.read_bytes(),  # an upload
    lambda path: str(path),  # a file path (the sketchpad's temp file, an API call)
    lambda path: path,
    lambda path: Image.open(path),  # a lazily opened PIL image
    lambda path: huge_array(),  # an array from a Python caller
    lambda path: huge_array(BOMB_SIZE + (3,)),
], ids=["bytes", "str path", "Path", "PIL", "array", "RGB array"])
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Image.open in the PIL case
def test_a_bomb_is_refused_by_its_pixel_count_before_any_decode(bomb, decodes, source):
    import tracemalloc
    image = source(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(RequestError, match=BOMB_MESSAGE):
            preprocess.mnist_like(image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decodes == {"load": 0, "convert": 0}
    assert peak < 10_000_000  # no float copy of the array either (it would be 8 bytes a pixel)


@pytest.mark.parametrize("sketch", [
    lambda path: {"background": None, "layers": [], "composite": str(path)},
    lambda path: {"background": None, "layers": [], "composite": path.read_bytes()},  # the canvas's blob
    lambda path: {"background": None, "layers": [], "composite": huge_array()},
], ids=["path", "bytes", "array"])
def test_a_bomb_sent_as_a_sketch_gets_the_same_message(bomb, decodes, sketch):
    from genlab.ui.digit_input import SOURCES, read_digit
    with pytest.raises(RequestError, match=BOMB_MESSAGE):
        read_digit(None, SOURCES[3], 0, "3", 0, None, sketch(bomb))
    assert decodes == {"load": 0, "convert": 0}


def test_a_bomb_uploaded_gets_the_size_message_not_unreadable(bomb):
    from genlab.ui.digit_input import SOURCES, read_digit
    with pytest.raises(RequestError, match=BOMB_MESSAGE):
        read_digit(None, SOURCES[2], 0, "3", 0, bomb.read_bytes(), None)


def test_an_image_too_big_for_pillow_to_open_gets_the_size_message(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses over 2000 pixels
    monkeypatch.setattr(preprocess, "MAX_PIXELS", 500)
    with pytest.raises(RequestError, match=r"image too large: 10,000 pixels \(at most 500\)"):
        preprocess.mnist_like(png(drawn_seven(size=(100, 100))))


def test_image_files_and_big_arrays_become_mnist_like(tmp_path):
    path = tmp_path / "seven.png"
    drawn_seven(size=(1200, 900)).save(path)
    assert_mnist_like(preprocess.mnist_like(path))
    assert_mnist_like(preprocess.mnist_like(str(path)))
    assert_mnist_like(preprocess.mnist_like(np.asarray(drawn_seven(size=(1200, 900)))))  # shrunk first
    with pytest.raises(RequestError, match="not a readable image"):
        preprocess.mnist_like(tmp_path / "absent.png")
