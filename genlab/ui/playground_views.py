"""Drawing the Playground's planes with numpy and Pillow: points, polylines, arrows, ellipses and
heat maps on a square picture of a region of the plane. Cheap enough to redraw every frame."""

import functools
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from genlab.images import caption_font

SIZE = 360  # pixels per side of one plane picture
Colour = Tuple[int, int, int, int]  # RGBA

REAL = (26, 150, 65, 255)  # green: training data (GAN Lab's colours)
FAKE = (123, 50, 148, 255)  # purple: the model's samples
ROWS = (37, 99, 235, 170)  # grid lines of constant second coordinate
COLUMNS = (234, 118, 20, 170)  # grid lines of constant first coordinate
AXES = (148, 163, 184, 255)
TEXT = (30, 41, 59, 255)


class PointPlane:
    """A picture of the square [-extent, extent]^2 (y up), `size` pixels wide, drawn on in place."""

    def __init__(self, extent: float, size: int = SIZE, background: np.ndarray = None, title: str = ""):
        self.extent, self.size = extent, size
        if background is None:
            self.image = Image.new("RGB", (size, size), (255, 255, 255))
        else:
            self.image = Image.fromarray(background).resize((size, size), Image.Resampling.BILINEAR)
        self.draw = ImageDraw.Draw(self.image, "RGBA")
        self.title = title

    def pixels(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) plane coordinates -> (..., 2) pixel coordinates (x right, y down)."""
        p = np.asarray(points, dtype=np.float64)
        scale = self.size / (2 * self.extent)
        return np.stack([(p[..., 0] + self.extent) * scale, (self.extent - p[..., 1]) * scale], -1)

    def axes(self) -> "PointPlane":
        centre = self.size / 2
        self.draw.line([(0, centre), (self.size, centre)], fill=AXES, width=1)
        self.draw.line([(centre, 0), (centre, self.size)], fill=AXES, width=1)
        return self

    def points(self, points: np.ndarray, colour: Colour, radius: float = 2.0) -> "PointPlane":
        """Dots blended into the picture with numpy: many times faster than one Pillow ellipse per point."""
        r = max(1, int(round(radius)))
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        disc = (dx ** 2 + dy ** 2) <= radius ** 2 + 0.5  # (2r+1, 2r+1) stamp
        centres = np.round(self.pixels(np.asarray(points).reshape(-1, 2))).astype(int)  # (N, 2)
        xs = (centres[:, None, 0] + dx[disc][None, :]).ravel()
        ys = (centres[:, None, 1] + dy[disc][None, :]).ravel()
        inside = (xs >= 0) & (xs < self.size) & (ys >= 0) & (ys < self.size)
        pixels = np.array(self.image)
        alpha = colour[3] / 255
        spot = pixels[ys[inside], xs[inside]].astype(np.float32)
        pixels[ys[inside], xs[inside]] = (spot * (1 - alpha) + np.array(colour[:3]) * alpha).astype(np.uint8)
        self.image = Image.fromarray(pixels)
        self.draw = ImageDraw.Draw(self.image, "RGBA")
        return self

    def coloured_points(self, points: np.ndarray, colours: Sequence[Colour], radius: float = 3.0) -> "PointPlane":
        for (x, y), colour in zip(self.pixels(points), colours):
            self.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=tuple(colour),
                              outline=(255, 255, 255, 255))
        return self

    def polylines(self, lines: np.ndarray, colour: Colour, width: int = 1) -> "PointPlane":
        """lines (L, P, 2): L polylines of P points each."""
        for line in self.pixels(lines):
            self.draw.line([tuple(p) for p in line], fill=colour, width=width, joint="curve")
        return self

    def arrows(self, starts: np.ndarray, vectors: np.ndarray, colour: Colour, width: int = 2) -> "PointPlane":
        """An arrow from each start (N, 2) along its vector (N, 2), both in plane units."""
        a, b = self.pixels(starts), self.pixels(starts + vectors)
        for (x0, y0), (x1, y1) in zip(a, b):
            dx, dy = x1 - x0, y1 - y0
            length = float(np.hypot(dx, dy))
            self.draw.line([(x0, y0), (x1, y1)], fill=colour, width=width)
            if length > 2:  # the head: two short strokes back from the tip
                ux, uy, head = dx / length, dy / length, min(6.0, 0.45 * length)
                for side in (1, -1):
                    hx = x1 - head * (ux + side * 0.5 * uy)
                    hy = y1 - head * (uy - side * 0.5 * ux)
                    self.draw.line([(x1, y1), (hx, hy)], fill=colour, width=width)
        return self

    def ellipses(self, centres: np.ndarray, radii: np.ndarray, colours: Sequence[Colour]) -> "PointPlane":
        """Axis-aligned ellipses: centres (N, 2), radii (N, 2), both in plane units."""
        scale = self.size / (2 * self.extent)
        for (x, y), (rx, ry), colour in zip(self.pixels(centres), radii * scale, colours):
            fill = tuple(colour[:3]) + (40,)
            self.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill, outline=tuple(colour), width=2)
        return self

    def circle(self, radius: float, colour: Colour) -> "PointPlane":
        (x, y), r = self.pixels(np.zeros(2)), radius * self.size / (2 * self.extent)
        self.draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=1)
        return self

    def label(self, text: str, corner: str = "top") -> "PointPlane":
        words = text_mask(text, 13)
        y = 4 if corner == "top" else self.size - 20
        self.draw.rectangle((3, y - 2, 9 + words.width, y + words.height + 2), fill=(255, 255, 255, 200))
        self.image.paste(TEXT[:3], (6, y), words)
        return self

    def picture(self) -> np.ndarray:
        if self.title:
            self.label(self.title)
        return np.asarray(self.image)


@functools.lru_cache(maxsize=256)
def text_mask(text: str, size: int) -> Image.Image:
    """`text` rendered once as an "L" mask: drawing text is the slowest part of a frame, and labels repeat."""
    font = caption_font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (right + 2, bottom + 2), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    return mask


def grid_points(extent: float, n: int) -> np.ndarray:
    """(n * n, 2) centres of an n x n grid over [-extent, extent]^2, row by row from the top."""
    axis = (np.arange(n) + 0.5) / n * 2 * extent - extent
    x, y = np.meshgrid(axis, axis[::-1])
    return np.stack([x.ravel(), y.ravel()], 1).astype(np.float32)


def grid_lines(extent: float, lines: int = 11, points: int = 41) -> Tuple[np.ndarray, np.ndarray]:
    """Rows (lines, points, 2) of constant y and columns (lines, points, 2) of constant x over [-extent, extent]^2."""
    ticks, along = np.linspace(-extent, extent, lines), np.linspace(-extent, extent, points)
    rows = np.stack(np.broadcast_arrays(along[None, :], ticks[:, None]), -1)
    columns = np.stack(np.broadcast_arrays(ticks[:, None], along[None, :]), -1)
    return rows.astype(np.float32), columns.astype(np.float32)


def heat_map(values: np.ndarray) -> np.ndarray:
    """(n, n) values in [0, 1] (rows from the top) -> (n, n, 3) uint8: purple at 0 (looks generated),
    white at 0.5 (undecided), green at 1 (looks real); pale, so points drawn on top stand out."""
    v = np.clip(values, 0, 1)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    low, high = np.array([190.0, 150.0, 215.0]), np.array([150.0, 215.0, 165.0])
    colour = np.where(v < 0.5, low + (white - low) * (v / 0.5), white + (high - white) * ((v - 0.5) / 0.5))
    return colour.astype(np.uint8)


def hues(values: np.ndarray) -> np.ndarray:
    """(N,) values in [0, 1) -> (N, 4) RGBA uint8 around the colour wheel (to tell points apart)."""
    hsv = np.stack([values * 255, np.full_like(values, 200), np.full_like(values, 210)], 1).astype(np.uint8)
    rgb = np.asarray(Image.fromarray(hsv[None], "HSV").convert("RGB"))[0]
    return np.concatenate([rgb, np.full((len(values), 1), 255, np.uint8)], 1)


def side_by_side(*pictures: np.ndarray, gap: int = 8) -> np.ndarray:
    """Pictures of one height next to each other, `gap` white pixels apart."""
    h = pictures[0].shape[0]
    spacer = np.full((h, gap, 3), 255, np.uint8)
    parts = [p for picture in pictures for p in (picture, spacer)][:-1]
    return np.concatenate(parts, 1)
