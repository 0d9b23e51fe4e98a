"""A user's own labelled pictures -> a training and a held-out split of 28x28 grey images.

The set is a zip or a folder of class folders (`cat/0001.png`, `dog/...`); class names are the
folder names, sorted (a single top folder around them all is looked through). Every picture goes
through `preprocess.mnist_like`, the VAE's upload path, so it looks the way MNIST was made:

- EXIF orientation applied; any mode (colour, alpha, palette, 16-bit) made grey, transparent areas
  counting as white paper; pictures larger than 512 px a side shrunk to that first;
- inverted when the border is light (median above half), so ink is white on black; the border's
  median shade is then subtracted, so the paper itself is not ink;
- refused as blank when the brightest ink is under 5%; else cropped to the ink (pixels brighter than
  20% of the brightest), normalised so the brightest ink is 255, scaled with its aspect kept to fit a
  20x20 box (Lanczos) and placed in 28x28 with its centre of mass at the centre.

Files that are not images, or images with nothing on them, are skipped and counted; an image with
too many pixels (`preprocess.check_size`), or pictures with too many in all, refuse the whole set.
"""

import hashlib
import warnings
from collections import Counter
from io import BytesIO
from typing import List, Optional

import numpy as np
from PIL import Image, UnidentifiedImageError

from genlab.data import preprocess
from genlab.data.download import DataError
from genlab.data.labelled_images import ImageSplits, LabelledImages, combined_sha256, held_out_mask
from genlab.data.picture_archive import CLI_MAX_BYTES, MAX_UNPACKED_BYTES, PictureFiles, PictureSource, picture_files
from genlab.params import RequestError

MIN_PER_CLASS = 5  # usable pictures a class needs: 4 to train on and 1 held out
MAX_CLASSES = 100
MAX_CLASS_NAME = 64  # characters of a class folder's name
MAX_TOTAL_PIXELS = 1_000_000_000  # decoded pixels of a whole set: bounds the decoding work (~1 GB of pixels)
NAMES_SHOWN = 5  # skipped files a message names


def _open_image(blob: bytes, path: str) -> Optional[Image.Image]:
    """A lazily opened image (header read, pixels not yet), None when `blob` is not an image;
    DataError when it has more pixels than `preprocess.check_size` allows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # check_size below says more
            image = Image.open(BytesIO(blob))
    except Image.DecompressionBombError:
        raise DataError(f"{path}: image too large (more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels; at most "
                        f"{preprocess.MAX_PIXELS:,})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    try:
        preprocess.check_size(*image.size)
    except RequestError as err:
        raise DataError(f"{path}: {err}") from None
    return image


def _class_of(path: str) -> Optional[str]:
    return path.split("/", 1)[0] if "/" in path else None


def _check_classes(files: PictureFiles) -> List[str]:
    """The sorted class folder names; DataError for fewer than 2, more than MAX_CLASSES, or odd names."""
    classes = sorted({c for c in map(_class_of, files.paths) if c is not None})
    if len(classes) < 2:
        found = f"only the class folder {classes[0]!r}" if classes else "no class folders"
        raise DataError(f"{files.name} has {found}: give at least 2 folders of pictures, one per class "
                        "(cat/0001.png, dog/0001.png ...)")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{files.name} has {len(classes)} class folders; at most {MAX_CLASSES} are accepted")
    odd = next((c for c in classes if len(c) > MAX_CLASS_NAME or not c.isprintable()), None)
    if odd is not None:
        raise DataError(f"{files.name}: class folder names must be printable and at most {MAX_CLASS_NAME} "
                        f"characters; {odd[:MAX_CLASS_NAME]!r}... is not")
    return classes


def _skipped_message(skipped: List[str], total: int) -> str:
    if not skipped:
        return ""
    shown = ", ".join(skipped[:NAMES_SHOWN]) + (", ..." if len(skipped) > NAMES_SHOWN else "")
    return f"skipped {len(skipped)} of {total} files (not pictures, blank, or outside a class folder): {shown}"


def load_pictures(source: PictureSource, *, name: Optional[str] = None, max_bytes: int = CLI_MAX_BYTES,
                  max_unpacked: int = MAX_UNPACKED_BYTES, max_pixels: int = MAX_TOTAL_PIXELS) -> ImageSplits:
    """A zip (bytes or a path) or a folder of class folders -> its train and held-out splits.

    `max_bytes` bounds the zip (or the folder's files): the web form passes 5 MB, the CLI the default.
    The held-out split is the last 10% of each class by file name (at least one picture), the same on
    every machine. Both splits carry the class names and one provenance record {name, files, pictures,
    skipped, sha256 (of the zip, or of the folder's files)}."""
    files = picture_files(source, name=name, max_bytes=max_bytes, max_unpacked=max_unpacked)
    classes = _check_classes(files)
    index = {c: i for i, c in enumerate(classes)}
    images, labels, skipped, digests = [], [], [], []
    pixels = 0
    for path in files.paths:
        blob = files.read(path)
        if files.sha256 is None:
            digests.append((path, hashlib.sha256(blob).hexdigest()))
        label = index.get(_class_of(path))
        image = _open_image(blob, path) if label is not None else None
        if image is None:
            skipped.append(path)
            continue
        pixels += image.size[0] * image.size[1]
        if pixels > max_pixels:
            raise DataError(f"{files.name}: its pictures hold more than {max_pixels:,} pixels in all; shrink them "
                            "(28 x 28 is all that is kept) or give fewer")
        try:
            images.append(preprocess.mnist_like(image))
        except (RequestError, OSError, SyntaxError, ValueError):  # blank, or broken past its header
            skipped.append(path)
            continue
        finally:
            image.close()
        labels.append(label)
    counts = Counter(labels)
    few = [f"{c} ({counts[i]})" for i, c in enumerate(classes) if counts[i] < MIN_PER_CLASS]
    if few:
        raise DataError(f"{files.name}: too few usable pictures in {', '.join(few)}; each class needs at least "
                        f"{MIN_PER_CLASS}" + (f" ({_skipped_message(skipped, len(files.paths))})" if skipped else ""))
    array, label_array = np.stack(images), np.asarray(labels, dtype=np.int64)  # (N, 28, 28) uint8, (N,)
    held = held_out_mask(label_array, len(classes))
    provenance = {"name": files.name, "files": len(files.paths), "pictures": len(labels), "skipped": len(skipped),
                  "sha256": files.sha256 or combined_sha256(digests)}
    described = f"{files.name} ({len(labels)} pictures in {len(classes)} classes"

    def part(mask: np.ndarray, which: str) -> LabelledImages:
        return LabelledImages(array[mask], label_array[mask], f"{described}; {which}: {int(mask.sum())})",
                              tuple(classes), dict(provenance))

    return ImageSplits(part(~held, "train"), part(held, "held out"), _skipped_message(skipped, len(files.paths)))
