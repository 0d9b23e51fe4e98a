"""Any picture of a digit -> MNIST-like input, the way MNIST itself was made (LeCun et al. 1998):
greyscale, white ink on black, cropped to the ink, scaled to fit a 20x20 box (aspect kept, anti-
aliased) and placed in 28x28 so that its centre of mass sits at the centre."""

import io
import os
import re
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from genlab.params import RequestError

MAX_BYTES = 20_000_000  # uploads larger than this are refused before decoding
MAX_PIXELS = 40_000_000  # and so are images with more pixels than this (decompression bombs)
WORKING_SIZE = 512  # big images are shrunk to this first: a digit needs no more detail
INK_THRESHOLD = 0.2  # a pixel is ink when brighter than this fraction of the brightest ink

ImageSource = Union[Image.Image, np.ndarray, bytes, str, os.PathLike]  # what mnist_like takes


def check_size(width: int, height: int) -> None:
    """The one pixel-count check every image path passes, before any decoding or conversion."""
    if width * height > MAX_PIXELS:
        raise RequestError(f"image too large: {width} x {height} pixels (at most {MAX_PIXELS:,})")


def _check_bytes(size: int) -> None:
    if size > MAX_BYTES:
        raise RequestError(f"the file is {size / 1e6:.1f} MB; at most {MAX_BYTES // 1_000_000} MB please")


def _open(source) -> Image.Image:
    """A file object or path -> loaded PIL image; only the header is read before `check_size`."""
    image = None
    try:
        with warnings.catch_warnings():
            # Pillow warns from a higher pixel count than ours; check_size below says more
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)  # lazy: reads the header (size, mode), not the pixels
        check_size(*image.size)
        image.load()
    except Image.DecompressionBombError as err:  # so big that Pillow refuses to open it at all
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        count = f"{int(pixels.group(1)):,}" if pixels else f"more than {2 * Image.MAX_IMAGE_PIXELS:,}"
        raise RequestError(f"image too large: {count} pixels (at most {MAX_PIXELS:,})") from None
    except RequestError:
        if image is not None:
            image.close()
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        if image is not None:
            image.close()
        raise RequestError("that file is not a readable image (PNG, JPEG, GIF, BMP, TIFF, WebP ...)") from None
    return image


def decode(blob: bytes) -> Image.Image:
    """Image bytes in any format Pillow reads -> PIL image; RequestError for anything else."""
    _check_bytes(len(blob))
    return _open(io.BytesIO(blob))


def read_file(path: Union[str, os.PathLike]) -> Image.Image:
    """An image file (an upload's or the sketchpad's temp file) -> PIL image; RequestError otherwise."""
    try:
        _check_bytes(os.path.getsize(path))
    except OSError:
        raise RequestError("that file is not a readable image (PNG, JPEG, GIF, BMP, TIFF, WebP ...)") from None
    return _open(Path(path))


def _shrunk(array: np.ndarray) -> Union[Image.Image, np.ndarray]:
    """A big array as a PIL image `mnist_like` can shrink, where Pillow takes its layout; else as it is."""
    if array.ndim < 2 or max(array.shape[:2]) <= WORKING_SIZE:
        return array
    try:
        return Image.fromarray(np.ascontiguousarray(array))
    except (TypeError, ValueError):
        step = -(-max(array.shape[:2]) // WORKING_SIZE)  # every step-th pixel: at most WORKING_SIZE a side
        return array[::step, ::step]


def to_grey(image: Union[Image.Image, np.ndarray]) -> np.ndarray:
    """Any mode (RGBA, LA, P, 16-bit, float, CMYK ...) -> float greyscale (H, W) in [0, 1]."""
    if isinstance(image, np.ndarray):
        array = image.astype(np.float64)
        if array.ndim == 3:
            array = array[..., :3].mean(2) if array.shape[2] >= 3 else array[..., 0]
        top = 255.0 if array.max() <= 255 else float(array.max())
        return np.clip(array / top, 0, 1) if top > 0 else array
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        return np.clip(array / top, 0, 1)
    if "A" in image.getbands() or image.mode == "P" and "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, "white")  # transparent areas count as paper
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def _border(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def mnist_like(image: ImageSource) -> np.ndarray:
    """(28, 28) uint8, white ink on black, framed like MNIST; RequestError when there is no digit.

    Every source (bytes, a file path, a PIL image, an array) passes `check_size` before its pixels
    are decoded or converted."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode(bytes(image))
    elif isinstance(image, (str, os.PathLike)):
        image = read_file(image)
    elif isinstance(image, np.ndarray):
        if image.ndim >= 2:
            check_size(image.shape[1], image.shape[0])  # (H, W) or (H, W, C)
        image = _shrunk(image)
    elif isinstance(image, Image.Image):
        check_size(*image.size)  # a lazily opened image knows its size before loading its pixels
    else:
        raise RequestError(f"expected an image (file, bytes, PIL image or array), got {type(image).__name__}")
    if isinstance(image, Image.Image) and max(image.size) > WORKING_SIZE:
        image = image.copy()
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.LANCZOS)
    grey = to_grey(image)
    if grey.ndim != 2 or min(grey.shape) < 1:
        raise RequestError("that image has no pixels")
    if np.median(_border(grey)) > 0.5:  # light paper, dark ink: flip to MNIST's white-on-black
        grey = 1.0 - grey
    grey = np.clip(grey - np.median(_border(grey)), 0, None)  # the paper's own shade is not ink
    peak = grey.max()
    if peak < 0.05:
        raise RequestError("the image looks empty: no digit found (draw or upload one)")
    rows, cols = np.nonzero(grey > INK_THRESHOLD * peak)
    ink = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1] / peak
    h, w = ink.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    box = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float64)
    canvas = np.zeros((28, 28))
    total = box.sum()
    cy, cx = ((np.indices(box.shape) * box).reshape(2, -1).sum(1) / total) if total > 0 else (size[1] / 2, size[0] / 2)
    top = int(np.clip(round(14 - cy), 0, 28 - box.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - box.shape[1]))
    canvas[top:top + box.shape[0], left:left + box.shape[1]] = box
    return np.clip(canvas, 0, 255).astype(np.uint8)
