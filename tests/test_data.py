"""MNIST reading: lookup order, checksums, clear errors for missing, corrupt or truncated files."""

import gzip
import hashlib

import numpy as np
import pytest
import torch

from genlab.data import mnist
from genlab.data.download import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes() + array.tobytes()


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny stand-in for the four MNIST files, with its checksums registered."""
    rng = np.random.default_rng(0)
    sizes = {"train": 12, "t10k": 6}
    files = {}
    for prefix, n in sizes.items():
        files[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        files[f"{prefix}-labels-idx1-ubyte"] = (np.arange(n) % 10).astype(np.uint8)
    monkeypatch.setattr(mnist, "MNIST_FILES", {
        name: (hashlib.sha256(idx_bytes(a)).hexdigest(), a.shape) for name, a in files.items()})
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, array in files.items():
        (folder / (name + ".gz")).write_bytes(gzip.compress(idx_bytes(array)))
    return folder, files


def test_parse_idx_round_trip():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(mnist.parse_idx(idx_bytes(array)), array)


@pytest.mark.parametrize("raw, message", [
    (b"", "bad magic"),
    (b"\x01\x02\x08\x01", "bad magic"),
    (bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0" * 4, "unsupported IDX type"),
    (bytes([0, 0, 8, 3, 0, 0]), "truncated IDX header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 10]) + b"\0" * 7, "truncated or padded"),
])
def test_parse_idx_rejects_bad_bytes_with_a_clear_message(raw, message):
    with pytest.raises(DataError, match=message):
        mnist.parse_idx(raw)


def test_reads_from_GENLAB_DATA_DIR_raw_or_gzipped(fake_mnist, monkeypatch):
    folder, files = fake_mnist
    monkeypatch.setenv("GENLAB_DATA_DIR", str(folder))
    train = mnist.load_mnist("train", download=False)
    assert np.array_equal(train.images, files["train-images-idx3-ubyte"]) and "full" in train.source
    path = folder / "t10k-images-idx3-ubyte.gz"
    (folder / "t10k-images-idx3-ubyte").write_bytes(gzip.decompress(path.read_bytes()))
    path.unlink()
    assert len(mnist.load_mnist("test", download=False)) == 6


def test_missing_files_name_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as err:
        mnist.load_mnist("train", download=False)
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message and str(mnist.cache_dir()) in message
    assert "GENLAB_DATA_DIR" in message


def test_corrupt_gzip_and_wrong_contents_are_refused(fake_mnist, monkeypatch):
    folder, _ = fake_mnist
    monkeypatch.setenv("GENLAB_DATA_DIR", str(folder))
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match="cannot read or decompress"):
        mnist.load_mnist("train", download=False)
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(12, dtype=np.uint8))))
    with pytest.raises(DataError, match="do not match the official"):
        mnist.load_mnist("train", download=False)


def test_download_from_a_mirror_is_verified_and_cached(fake_mnist, tmp_path, monkeypatch):
    folder, files = fake_mnist
    monkeypatch.setattr(mnist, "MIRRORS", ("file:///definitely/missing/", folder.as_uri() + "/"))
    digits = mnist.load_mnist("test", download=True)
    assert np.array_equal(digits.labels, files["t10k-labels-idx1-ubyte"])
    assert (mnist.cache_dir() / "t10k-images-idx3-ubyte.gz").is_file()


def test_download_failure_is_a_clear_error(fake_mnist, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ("file:///definitely/missing/",))
    with pytest.raises(DataError, match="download .*definitely/missing"):
        mnist.load_mnist("train", download=True)


def test_bundled_sample_is_real_stratified_mnist():
    train, test = mnist.load_sample("train"), mnist.load_sample("test")
    assert train.images.shape == (3000, 28, 28) and train.images.dtype == np.uint8
    assert np.bincount(train.labels).tolist() == [300] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    assert "bundled" in train.source


def test_load_digits_falls_back_to_the_sample_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path))
    assert "bundled" in mnist.load_digits("test").source
    with pytest.raises(DataError):
        mnist.load_digits("test", allow_sample=False)


def test_batches_are_shuffled_labelled_and_in_range():
    digits = mnist.load_sample("test")
    it = mnist.image_batches(digits, 32, seed=1)
    images, labels = next(it)
    assert images.shape == (32, 1, 28, 28) and labels.shape == (32,)
    assert images.min() >= -1 and images.max() <= 1
    again, _ = next(mnist.image_batches(digits, 32, seed=1))
    assert torch.equal(images, again)
    assert len(set(labels.tolist())) > 3  # shuffled, not class-sorted


@pytest.mark.parametrize("skip", [0, 3, 93, 250])
def test_skipping_batches_matches_drawing_them(skip):
    digits = mnist.load_sample("train")  # 3000 digits: 93 batches of 32 per epoch
    drawn = mnist.image_batches(digits, 32, seed=4)
    for _ in range(skip):
        next(drawn)
    skipped = mnist.image_batches(digits, 32, seed=4, skip=skip)
    for _ in range(3):
        (a, la), (b, lb) = next(drawn), next(skipped)
        assert torch.equal(a, b) and torch.equal(la, lb)
