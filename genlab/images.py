"""Turning (N, 1, 28, 28) tensors in [-1, 1] into pictures: crisp grids, annotated grids, GIFs."""

from __future__ import annotations

import io
import math
import textwrap
import zlib
from typing import List, Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

INK_OK = (40, 160, 70)
INK_WRONG = (220, 40, 40)


def to_unit(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [-1, 1] -> (N, H, W) float32 in [0, 1]."""
    return images.detach().float().cpu().squeeze(1).add(1).mul(0.5).clamp(0, 1).numpy()


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [-1, 1] -> (N, H, W) uint8, white ink on black."""
    return images.detach().float().cpu().squeeze(1).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def grid(images: torch.Tensor, *, columns: Optional[int] = None, scale: int = 3, pad: int = 2) -> np.ndarray:
    """Tile images into one (H, W) uint8 picture, nearest-neighbour upscaled by `scale` (no blur)."""
    tiles = to_uint8(images)
    n, h, w = tiles.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    canvas = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad), 60, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = tile
    return canvas.repeat(scale, 0).repeat(scale, 1) if scale > 1 else canvas


def grid_image(images: torch.Tensor, **kwargs) -> Image.Image:
    return Image.fromarray(grid(images, **kwargs))


def png_bytes(picture) -> bytes:
    """A lossless PNG of `picture`, a uint8 array (H, W) or (H, W, 3), or a PIL image, coded for speed.

    Grey pictures (digit grids: flat backgrounds and nearest-neighbour upscaled pixels, runs of
    equal bytes) take zlib's run-length strategy, faster and smaller than Pillow's default; colour
    ones, whose interleaved channels break those runs, take zlib's fastest level, a little larger
    (benchmarks/gan_speed.py prints each against Pillow's default)."""
    buffer = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    fast = {"compress_type": zlib.Z_RLE} if image.mode == "L" else {"compress_level": 1}
    image.save(buffer, format="PNG", **fast)
    return buffer.getvalue()


def strip(images: torch.Tensor, scale: int = 3) -> np.ndarray:
    return grid(images, columns=len(images), scale=scale)


def caption_font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font at `size` px (no system font needed)."""
    return ImageFont.load_default(size=size)


def annotated_grid(images: torch.Tensor, captions: Sequence[str], correct: Sequence[bool], *,
                   columns: int, scale: int = 3) -> Image.Image:
    """A grid with a caption under every image, green where `correct`, red (and framed) where not.

    Captions are drawn whole: the font shrinks until the widest one fits its cell."""
    tiles = to_uint8(images)
    n, h, w = tiles.shape
    cell_w, cell_h = w * scale, h * scale
    size = 4 * scale + 4  # 12 px under 2x digits, 16 px under 3x
    font = caption_font(size)
    while size > 8 and max(font.getlength(c) for c in captions) > cell_w:
        size -= 1
        font = caption_font(size)
    caption_h = size + 4
    rows = math.ceil(n / columns)
    pad = 6
    canvas = Image.new("RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + caption_h + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        x, y = pad + c * (cell_w + pad), pad + r * (cell_h + caption_h + pad)
        canvas.paste(Image.fromarray(tile.repeat(scale, 0).repeat(scale, 1)).convert("RGB"), (x, y))
        ink = INK_OK if correct[i] else INK_WRONG
        if not correct[i]:
            draw.rectangle([x - 2, y - 2, x + cell_w + 1, y + cell_h + 1], outline=ink, width=2)
        draw.text((x + cell_w / 2, y + cell_h + 2), captions[i], fill=ink, font=font, anchor="ma")
    return canvas


def message(text: str, width: int = 420) -> np.ndarray:
    """A (H, W) uint8 picture of `text`, wrapped: for answers that must be an image but cannot be digits."""
    lines = textwrap.wrap(text, width=width // 7) or [""]
    canvas = Image.new("L", (width, 16 * len(lines) + 12), 255)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((6, 6 + 16 * i), line, fill=0, font=ImageFont.load_default())
    return np.asarray(canvas)


def frames(images: torch.Tensor, scale: int = 6) -> List[np.ndarray]:
    """(N, 1, 28, 28) in [-1, 1] -> N upscaled uint8 frames for an animation."""
    return [grid(image[None], columns=1, scale=scale, pad=0) for image in images]


def gif_bytes(frames: List[np.ndarray], *, frame_ms: int = 120, bounce: bool = True) -> bytes:
    """An endlessly looping animated GIF of uint8 frames (forward, then back when `bounce`)."""
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce else [])
    pictures = [Image.fromarray(f) for f in sequence]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]  # one per digit


def scatter(points: np.ndarray, labels: np.ndarray, marker: Optional[np.ndarray] = None, *,
            size: int = 440, extent: float = 2.5) -> Image.Image:
    """Points (N, 2) in units of the plot's spread (+-extent fills the frame), coloured by digit,
    with a legend and an optional black ring at `marker` (2,)."""
    legend_h = 22
    canvas = Image.new("RGB", (size, size + legend_h), "white")
    draw = ImageDraw.Draw(canvas)
    to_px = lambda p: ((p[0] / extent + 1) / 2 * (size - 1), (1 - p[1] / extent) / 2 * (size - 1))  # noqa: E731
    draw.line([(size / 2, 0), (size / 2, size)], fill=(225, 225, 225))
    draw.line([(0, size / 2), (size, size / 2)], fill=(225, 225, 225))
    for point, label in zip(points, labels):
        x, y = to_px(point)
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=PALETTE[int(label)])
    if marker is not None:
        x, y = to_px(np.clip(marker, -extent, extent))
        draw.ellipse([x - 9, y - 9, x + 9, y + 9], outline="black", width=3)
    font = ImageFont.load_default()
    for digit in range(10):
        x = 8 + digit * (size - 16) / 10
        draw.rectangle([x, size + 7, x + 9, size + 16], fill=PALETTE[digit])
        draw.text((x + 13, size + 6), str(digit), fill="black", font=font)
    return canvas


def heat(error: np.ndarray, scale: int = 6) -> np.ndarray:
    """|error| (H, W) in [0, 1] -> (H*scale, W*scale, 3) uint8: black, through red, to yellow."""
    e = np.clip(error, 0, 1)
    rgb = np.stack([np.clip(2 * e, 0, 1), np.clip(2 * e - 1, 0, 1), np.zeros_like(e)], axis=-1)
    return (rgb * 255).astype(np.uint8).repeat(scale, 0).repeat(scale, 1)
