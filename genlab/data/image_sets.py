"""The image data sources by name, and `load_image_data`, which turns a `--data` value (a name here,
or the path of a .zip or a folder of class folders) into a loaded set with its held-out split."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Tuple

from genlab.data import mnist, shapes
from genlab.data.download import DataError
from genlab.data.idx_files import IdxSet, load_split
from genlab.data.labelled_images import DIGIT_CLASSES, ImageSplits, LabelledImages
from genlab.data.own_pictures import load_pictures
from genlab.data.picture_archive import CLI_MAX_BYTES


def _mnist_format(train_images: str, train_labels: str, test_images: str, test_labels: str) -> dict:
    """The four files of an MNIST-format set with their SHA-256 and the shapes all such sets share."""
    return {"train-images-idx3-ubyte": (train_images, (60000, 28, 28)),
            "train-labels-idx1-ubyte": (train_labels, (60000,)),
            "t10k-images-idx3-ubyte": (test_images, (10000, 28, 28)),
            "t10k-labels-idx1-ubyte": (test_labels, (10000,))}


# The published SHA-256 of each .gz file (the mirrors are plain http: the hash is what is trusted), as
# tensorflow_datasets records them with their sizes in tensorflow_datasets/url_checksums/fashion_mnist.txt
# and kmnist.txt (github.com/tensorflow/datasets).
FASHION_MNIST = IdxSet(
    name="fashion-mnist", title="Fashion-MNIST",
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot"),  # zalandoresearch/fashion-mnist README, labels 0..9
    files=_mnist_format("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
)
KMNIST = IdxSet(
    name="kmnist", title="Kuzushiji-MNIST",
    classes=("お (o)", "き (ki)", "す (su)", "つ (tsu)", "な (na)", "は (ha)", "ま (ma)", "や (ya)", "れ (re)",
             "を (wo)"),  # rois-codh/kmnist kmnist_classmap.csv, labels 0..9
    files=_mnist_format("51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
                        "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
                        "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
                        "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
)


@dataclass(frozen=True)
class ImageSource:
    """A named image data set as a menu shows it and a run loads it."""

    title: str  # shown in menus and messages
    classes: Tuple[str, ...]  # label i's name
    load: Callable[..., LabelledImages]  # (split, *, download) -> that split


def idx_source(idx_set: IdxSet) -> ImageSource:
    """An IDX set as a source: its files found locally, else downloaded (when allowed) and checked."""
    def load(split: str = "train", *, download: bool = True) -> LabelledImages:
        return load_split(idx_set, split, download_missing=download)
    return ImageSource(idx_set.title, idx_set.classes, load)


IMAGE_SOURCES: Dict[str, ImageSource] = {
    # MNIST as ever: the full set when found (or downloaded), else the bundled sample
    "mnist": ImageSource("MNIST", DIGIT_CLASSES, mnist.load_digits),
    "fashion-mnist": idx_source(FASHION_MNIST),
    "kmnist": idx_source(KMNIST),
    "shapes": ImageSource("drawn shapes", shapes.CLASSES, shapes.load_shapes),  # made here, always offline
}


def load_named(name: str, *, download: bool = True) -> ImageSplits:
    """Both splits of a registered set."""
    source = IMAGE_SOURCES[name]
    return ImageSplits(source.load("train", download=download), source.load("test", download=download))


def load_image_data(value: str, *, download: bool = True, max_bytes: int = CLI_MAX_BYTES) -> ImageSplits:
    """A `--data` value -> the set with its held-out split: a name of IMAGE_SOURCES, or the path (on
    the CLI user's own machine) of a .zip or a folder of class folders. Never give it a web user's text:
    the web form passes the uploaded bytes to `own_pictures.load_pictures` with its own `max_bytes`."""
    if value in IMAGE_SOURCES:
        return load_named(value, download=download)
    path = Path(value).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
        return load_pictures(path, max_bytes=max_bytes)
    kind = "is not a .zip file" if path.is_file() else "is no file or folder"
    raise DataError(f"--data {value!r}: not a known set ({', '.join(IMAGE_SOURCES)}) and {kind}; give one of "
                    "those names, a .zip of class folders, or a folder of class folders (cat/0001.png, dog/...)")
