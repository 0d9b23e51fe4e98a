"""Any picture of a digit -> MNIST-like input, the way MNIST itself was made (LeCun et al. 1998):
greyscale, white ink on black, cropped to the ink, scaled to fit a 20x20 box (aspect kept, anti-
aliased) and placed in 28x28 so that its centre of mass sits at the centre."""

import io
import warnings
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from genlab.params import RequestError

MAX_BYTES = 20_000_000  # uploads larger than this are refused before decoding
MAX_PIXELS = 40_000_000  # and so are images with more pixels than this (decompression bombs)
WORKING_SIZE = 512  # big images are shrunk to this first: a digit needs no more detail
INK_THRESHOLD = 0.2  # a pixel is ink when brighter than this fraction of the brightest ink


def decode(blob: bytes) -> Image.Image:
    """Image bytes in any format Pillow reads -> PIL image; RequestError for anything else."""
    if len(blob) > MAX_BYTES:
        raise RequestError(f"the file is {len(blob) / 1e6:.1f} MB; at most {MAX_BYTES // 1_000_000} MB please")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(blob))
            if image.width * image.height > MAX_PIXELS:
                raise RequestError(f"the image is {image.width}x{image.height}; at most {MAX_PIXELS:,} pixels please")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as err:
        if isinstance(err, RequestError):
            raise
        raise RequestError("that file is not a readable image (PNG, JPEG, GIF, BMP, TIFF, WebP ...)") from None
    return image


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


def mnist_like(image: Union[Image.Image, np.ndarray, bytes]) -> np.ndarray:
    """(28, 28) uint8, white ink on black, framed like MNIST; RequestError when there is no digit."""
    if isinstance(image, (bytes, bytearray)):
        image = decode(bytes(image))
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
