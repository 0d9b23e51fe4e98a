"""Image sets beyond MNIST: a user's own pictures (zip or folder, safely), Fashion-MNIST and KMNIST
through the one IDX reader, checked downloads and clear messages. All offline."""

import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import socket
import struct
import threading
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genlab.data import idx_files, image_sets, mnist, own_pictures, picture_archive, preprocess
from genlab.data.download import DataError
from genlab.data.labelled_images import DIGIT_CLASSES

SHAPES = ("circle", "square", "triangle")


def drawn_shape(kind: str, i: int) -> bytes:
    """A shape on paper: sizes vary, every other one dark ink on light paper, some in colour, some JPEG."""
    light = i % 2 == 0
    size = (60 + 7 * i, 50 + 5 * i)
    paper = (245, 240, 225) if light else (12, 10, 30)
    ink = [(200, 30, 30), (20, 120, 40), (0, 0, 0) if light else (255, 255, 255)][i % 3]
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    w, h = size
    box = (w * 0.25, h * 0.2, w * 0.75, h * 0.8)
    if kind == "circle":
        draw.ellipse(box, outline=ink, width=4)
    elif kind == "square":
        draw.rectangle(box, fill=ink)
    else:
        draw.polygon([(w * 0.5, h * 0.15), (w * 0.8, h * 0.85), (w * 0.2, h * 0.85)], fill=ink)
    if i % 4 == 3:
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if i % 5 == 4 else "PNG")
    return buffer.getvalue()


def shape_files(counts=(12, 10, 7), top: str = "") -> dict:
    return {f"{top}{kind}/{i:04d}.png": drawn_shape(kind, i) for kind, n in zip(SHAPES, counts) for i in range(n)}


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_drawn_shapes_loads_with_its_classes_counts_and_split():
    blob = zipped(shape_files())
    data = own_pictures.load_pictures(blob, name="shapes.zip")
    train, test = data.train, data.test
    assert train.classes == test.classes == ("circle", "square", "triangle") and train.num_classes == 3
    # the last 10% of each class (at least one) is held out: 12 -> 1, 10 -> 1, 7 -> 1
    assert np.bincount(train.labels).tolist() == [11, 9, 6] and np.bincount(test.labels).tolist() == [1, 1, 1]
    assert train.images.shape == (26, 28, 28) and train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    for image in np.concatenate([train.images, test.images]):  # white ink on black, light paper or dark
        assert image.max() > 200 and max(image[0].max(), image[-1].max(), image[:, 0].max(), image[:, -1].max()) == 0
    assert train.provenance == {"name": "shapes.zip", "files": 29, "pictures": 29, "skipped": 0,
                                "sha256": hashlib.sha256(blob).hexdigest()}
    assert data.skipped == "" and "29 pictures in 3 classes" in train.source
    square, circle = train.images[train.labels == 1].mean(), train.images[train.labels == 0].mean()
    assert square > circle  # a filled square has more ink than a ring: the classes are the drawn shapes


def test_the_split_is_the_last_tenth_of_each_class_by_file_name_whatever_the_zip_order():
    files = shape_files((10, 10, 10))
    data = own_pictures.load_pictures(zipped(files))
    shuffled = own_pictures.load_pictures(zipped(dict(reversed(list(files.items())))))
    assert np.array_equal(data.train.images, shuffled.train.images)
    assert np.array_equal(data.test.images, shuffled.test.images)
    expected = [preprocess.mnist_like(files[f"{kind}/0009.png"]) for kind in SHAPES]  # the VAE's upload path
    assert np.array_equal(data.test.images, np.stack(expected)) and data.test.labels.tolist() == [0, 1, 2]


def test_a_folder_of_class_folders_loads_like_its_zip(tmp_path):
    files = shape_files(top="pets/")
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "pets" / ".DS_Store").write_bytes(b"junk")  # OS metadata: left out, not counted
    from_folder = image_sets.load_image_data(str(tmp_path / "pets"))
    from_zip = own_pictures.load_pictures(zipped(files))  # one shared top folder is looked through
    assert from_folder.train.classes == from_zip.train.classes == ("circle", "square", "triangle")
    assert np.array_equal(from_folder.train.images, from_zip.train.images)
    assert from_folder.skipped == "" and from_folder.train.provenance["name"] == "pets"
    assert len(from_folder.train.provenance["sha256"]) == 64


def test_files_that_are_not_pictures_are_skipped_and_counted():
    files = {**shape_files(), "circle/notes.txt": b"not a picture", "square/empty.png": b"",
             "readme.md": b"# loose file outside a class folder", "triangle/blank.png": drawn_blank()}
    data = own_pictures.load_pictures(zipped(files), name="shapes.zip")
    assert data.skipped.startswith("skipped 4 of 33 files")
    for name in ("circle/notes.txt", "square/empty.png", "readme.md", "triangle/blank.png"):
        assert name in data.skipped
    assert data.train.provenance["skipped"] == 4 and len(data.train) + len(data.test) == 29


def drawn_blank() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (40, 40), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def with_entry(info: zipfile.ZipInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, picture in shape_files((5, 5, 0)).items():
            archive.writestr(name, picture)
        archive.writestr(info, data)
    return buffer.getvalue()


def symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("circle/link.png")
    info.create_system = 3  # Unix
    info.external_attr = (0o120777 << 16)  # S_IFLNK: a symbolic link to ...
    return info


def too_many_files() -> bytes:
    return zipped({f"a/{i}.png": b"" for i in range(picture_archive.MAX_FILES + 1)})


@functools.lru_cache(maxsize=1)
def bomb() -> bytes:
    """200 MB of zeros, deflated to about 200 kB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("circle/zeros.bmp")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(200):
                member.write(chunk)
    return buffer.getvalue()


def huge_png_header(width=10_000, height=10_000) -> bytes:
    """A PNG whose header claims 100 million pixels: decoding it would need them all."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = chunk(b"IDAT", zlib.compress(bytes(1000)))  # a start of them: the header is all that is read
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


@pytest.mark.parametrize("make, message", [
    (lambda: with_entry(zipfile.ZipInfo("circle/../../evil.png")), "'..'"),
    (lambda: with_entry(zipfile.ZipInfo("/etc/evil.png")), "absolute path"),
    (lambda: with_entry(zipfile.ZipInfo("C:/evil.png")), "absolute path"),
    (lambda: with_entry(symlink_entry(), b"/etc/passwd"), "symbolic link"),
    (too_many_files, "at most 20,000 files"),
    (bomb, "decompression bomb"),
    (lambda: zipped({**shape_files(), "square/huge.png": huge_png_header()}), "square/huge.png: image too large"),
    (lambda: b"PK\x03\x04 but not really a zip", "not a readable zip"),
])
def test_unsafe_zips_are_refused_with_a_message(make, message):
    with pytest.raises(DataError, match=message):
        own_pictures.load_pictures(make(), name="upload.zip")


def test_the_bomb_is_refused_from_the_directory_before_anything_is_read(monkeypatch):
    blob = bomb()
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("a member was read"))
    with pytest.raises(DataError, match="would unpack to 209.7 MB"):
        picture_archive.picture_files(blob, max_unpacked=100_000_000)


def test_the_zip_size_bound_is_the_callers():
    blob = zipped(shape_files())
    with pytest.raises(DataError, match=r"upload.zip is \d+ kB; at most 10 kB"):
        own_pictures.load_pictures(blob, name="upload.zip", max_bytes=10_000)


def test_a_link_inside_a_folder_is_refused(tmp_path):
    for name, data in shape_files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "circle" / "elsewhere.png").symlink_to(tmp_path / "square" / "0001.png")
    with pytest.raises(DataError, match="circle/elsewhere.png is a link"):
        own_pictures.load_pictures(tmp_path)


def test_classes_with_too_few_pictures_are_named():
    files = {**shape_files((12, 3, 7)), "circle/oops.txt": b"text"}
    del files["triangle/0006.png"], files["triangle/0005.png"], files["triangle/0004.png"]
    with pytest.raises(DataError, match=r"too few usable pictures in square \(3\), triangle \(4\); "
                                        r"each class needs at least 5 \(skipped 1 of"):
        own_pictures.load_pictures(zipped(files))


@pytest.mark.parametrize("files, message", [
    ({f"circle/{i}.png": drawn_shape("circle", i) for i in range(8)}, "only the class folder 'circle'"),
    ({f"{i}.png": drawn_shape("circle", i) for i in range(8)}, "no class folders"),
    ({f"c{i:03d}/0.png": b"" for i in range(101)}, "101 class folders; at most 100"),
])
def test_a_set_needs_two_to_a_hundred_classes(files, message):
    with pytest.raises(DataError, match=message):
        own_pictures.load_pictures(zipped(files))


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes() + array.tobytes()


@pytest.fixture
def tiny_fashion(monkeypatch):
    """Four tiny gzipped IDX files and a Fashion-MNIST entry whose table holds their SHA-256 (of the .gz)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", 20), ("t10k", 10)):
        arrays[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte"] = (np.arange(n) % 10).astype(np.uint8)
    blobs = {name + ".gz": gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}
    table = {name: (hashlib.sha256(blobs[name + ".gz"]).hexdigest(), a.shape) for name, a in arrays.items()}
    entry = dataclasses.replace(image_sets.FASHION_MNIST, files=table)

    def use(mirrors=(), files=table):
        patched = dataclasses.replace(entry, mirrors=tuple(mirrors), files=files)
        monkeypatch.setitem(image_sets.IMAGE_SOURCES, "fashion-mnist", image_sets.idx_source(patched))
        return patched
    use()
    return blobs, arrays, use


@pytest.mark.parametrize("layout", ["fashion-mnist", "../fashion-mnist"])
def test_fashion_mnist_loads_from_GENLAB_DATA_DIR_through_the_one_reader(tiny_fashion, tmp_path, monkeypatch, layout):
    blobs, arrays, _ = tiny_fashion
    data_dir = tmp_path / "data" / "mnist"  # the ../shared/data layout: $GENLAB_DATA_DIR is MNIST's folder
    data_dir.mkdir(parents=True)
    folder = data_dir / layout
    folder.mkdir()
    for name, blob in blobs.items():
        (folder / name).write_bytes(blob)
    monkeypatch.setenv("GENLAB_DATA_DIR", str(data_dir))
    data = image_sets.load_image_data("fashion-mnist", download=False)
    assert np.array_equal(data.train.images, arrays["train-images-idx3-ubyte"])
    assert data.test.labels.dtype == np.int64 and len(data.test) == 10
    assert data.train.classes[0] == "T-shirt/top" and data.train.classes[9] == "Ankle boot"
    assert data.train.provenance["name"] == "fashion-mnist"
    assert data.train.source == "Fashion-MNIST train (full, 20 images)"
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(10, np.uint8))))
    with pytest.raises(DataError, match="Fashion-MNIST t10k-labels-idx1-ubyte: contents do not match") as err:
        image_sets.load_image_data("fashion-mnist", download=False)
    assert str(tmp_path) not in str(err.value)


def test_the_three_idx_sets_are_entries_of_one_reader():
    assert set(image_sets.IMAGE_SOURCES) == {"mnist", "fashion-mnist", "kmnist", "shapes"}
    assert image_sets.IMAGE_SOURCES["kmnist"].classes[0] == "お (o)" and len(image_sets.KMNIST.classes) == 10
    assert image_sets.IMAGE_SOURCES["mnist"].classes == DIGIT_CLASSES
    for entry in (image_sets.FASHION_MNIST, image_sets.KMNIST, mnist.idx_set()):
        assert set(entry.files) == set(mnist.MNIST_FILES) and all(len(h) == 64 for h, _ in entry.files.values())
    sample = image_sets.load_image_data("mnist", download=False)  # no GENLAB_DATA_DIR in tests: the sample
    assert "bundled" in sample.train.source and sample.test.num_classes == 10
    assert sample.train.provenance["name"] == "mnist-sample"


class _Files(http.server.BaseHTTPRequestHandler):
    blobs: dict = {}

    def do_GET(self):
        blob = self.blobs.get(self.path.rsplit("/", 1)[-1])
        self.send_response(200 if blob else 404)
        self.end_headers()
        self.wfile.write(blob or b"")

    def log_message(self, *args):
        pass


def unreachable() -> str:
    """A mirror on a port nobody listens on: connection refused, as with no network."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


@pytest.fixture
def local_mirror(tiny_fashion):
    blobs = tiny_fashion[0]
    handler = type("Handler", (_Files,), {"blobs": blobs})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fashion/"
    server.shutdown()
    server.server_close()


def test_a_download_with_the_right_checksum_is_kept_in_the_cache(tiny_fashion, local_mirror):
    _, arrays, use = tiny_fashion
    entry = use(mirrors=(unreachable(), local_mirror))  # the first mirror fails: the next serves
    data = image_sets.load_image_data("fashion-mnist")
    assert np.array_equal(data.test.images, arrays["t10k-images-idx3-ubyte"])
    assert sorted(p.name for p in entry.cache().iterdir()) == sorted(entry.file_names())
    assert idx_files.find_folder(entry) == entry.cache()


def test_a_download_with_a_wrong_checksum_is_refused_and_not_kept(tiny_fashion, local_mirror):
    _, _, use = tiny_fashion
    table = dict(image_sets.FASHION_MNIST.files)  # the real hashes: the local files do not match them
    table = {name: (digest, tiny_fashion[1][name].shape) for name, (digest, _) in table.items()}
    entry = use(mirrors=(local_mirror,), files=table)
    with pytest.raises(DataError, match="download failed .*127.0.0.1.*contents do not match the official"):
        image_sets.load_image_data("fashion-mnist")
    assert not entry.cache().exists() or list(entry.cache().iterdir()) == []


def test_without_network_the_message_names_the_four_files_and_the_folder(tiny_fashion, tmp_path, monkeypatch):
    tiny_fashion[2](mirrors=(unreachable(),))
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DataError) as err:
        image_sets.load_image_data("fashion-mnist")
    message = str(err.value)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "$GENLAB_DATA_DIR/fashion-mnist/", "genlab's user cache",
                 "download failed"):
        assert name in message
    assert str(tmp_path) not in message  # settings, never this machine's folders
    with pytest.raises(DataError, match="Fashion-MNIST not found") as offline:
        image_sets.load_image_data("fashion-mnist", download=False)
    assert "download" not in str(offline.value)


@pytest.mark.parametrize("value, message", [
    ("no-such-set", "not a known set .*mnist, fashion-mnist, kmnist.* is no file or folder"),
    ("setup.cfg.txt", "is not a .zip file"),
])
def test_a_data_value_is_a_name_a_zip_or_a_folder(tmp_path, monkeypatch, value, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.cfg.txt").write_text("x")
    with pytest.raises(DataError, match=message):
        image_sets.load_image_data(value)
    (tmp_path / "shapes.zip").write_bytes(zipped(shape_files()))
    assert image_sets.load_image_data("shapes.zip").train.classes == ("circle", "square", "triangle")


def test_user_sets_batch_like_mnist():
    data = own_pictures.load_pictures(zipped(shape_files()))
    images, labels = next(mnist.image_batches(data.train, 8, seed=0))
    assert images.shape == (8, 1, 28, 28) and images.min() >= -1 and labels.max() < data.train.num_classes


def test_a_gzip_bomb_is_stopped_at_the_size_the_file_should_have():
    from genlab.data import idx_files
    bomb = gzip.compress(bytes(50_000_000))  # 50 MB of zeros in about 50 kB
    with pytest.raises(DataError, match="unpacks to more than the 1,000 bytes"):
        idx_files.decompressed(bomb, "a label file", limit=1_000)
    assert idx_files.decompressed(gzip.compress(b"abc"), "x", limit=3) == b"abc"
