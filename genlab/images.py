"""Turning (N, 1, 28, 28) tensors in [-1, 1] into pictures: crisp grids, annotated grids, GIFs."""

import io
import math
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
    return Image.fromarray(grid(images, **kwargs), mode="L")


def strip(images: torch.Tensor, scale: int = 3) -> np.ndarray:
    return grid(images, columns=len(images), scale=scale)


def annotated_grid(images: torch.Tensor, captions: Sequence[str], correct: Sequence[bool], *,
                   columns: int, scale: int = 3) -> Image.Image:
    """A grid with a caption under every image, green where `correct`, red (and framed) where not."""
    tiles = to_uint8(images)
    n, h, w = tiles.shape
    cell_w, cell_h, caption_h = w * scale, h * scale, 14
    rows = math.ceil(n / columns)
    pad = 6
    canvas = Image.new("RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + caption_h + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        x, y = pad + c * (cell_w + pad), pad + r * (cell_h + caption_h + pad)
        canvas.paste(Image.fromarray(tile.repeat(scale, 0).repeat(scale, 1), mode="L").convert("RGB"), (x, y))
        ink = INK_OK if correct[i] else INK_WRONG
        if not correct[i]:
            draw.rectangle([x - 2, y - 2, x + cell_w + 1, y + cell_h + 1], outline=ink, width=2)
        draw.text((x + 1, y + cell_h + 1), captions[i], fill=ink, font=font)
    return canvas


def gif_bytes(frames: List[np.ndarray], *, frame_ms: int = 120, bounce: bool = True) -> bytes:
    """An endlessly looping animated GIF of uint8 frames (forward, then back when `bounce`)."""
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce else [])
    pictures = [Image.fromarray(f) for f in sequence]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
