"""The Train tab trains image families on other pictures: drawn shapes or a user's zip of class folders,
previewed with their classes and counts before Start, recorded in the run, kept for Resume; previews get
verdicts only from a judge trained on the same data, which "Train a judge for this data" makes."""

import dataclasses
import json

import numpy as np
import pytest

from genlab.data import shapes
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.ui import train_data, train_judges
from genlab.ui.tabs import train as train_tab
from genlab.ui.tabs.train_pictures import preview_stream

from conftest import TINY
from test_image_data import shape_files, with_entry, zipped
from test_train_tab import ctx, every_step  # noqa: F401  (fixtures: the tab's context; frames at every step)

import zipfile


@pytest.fixture(autouse=True)
def small_sets(monkeypatch):
    """Fewer drawn shapes: the drawing, not the training, is what takes time."""
    monkeypatch.setattr(shapes, "SIZES", {"train": 160, "test": 40})


def start(ctx, family, data, pictures=None, session=None, steps=3):
    """The tab's Start, run to its end: the last outputs (status, plot, preview, text, histogram, timeline,
    session) and every histogram sent."""
    outputs = list(train_tab.train_start(ctx, family, "quick", {"steps": steps, "batch_size": 8},
                                         dict(TINY[family]), train_tab.SHAKESPEARE, "", None, data, pictures,
                                         session))
    return outputs[-1], [o[4] for o in outputs if hasattr(o[4], "columns")]


def folder_of(ctx, session):
    return ctx.store.run_folder(session, session["current"])


def test_a_run_on_drawn_shapes_trains_and_records_its_data_like_the_cli(ctx):
    last, histograms = start(ctx, "gan", "shapes")
    status, session = last[0], last[-1]
    assert "finished: step 3/3" in status and "drawn shapes" in status and train_judges.NO_JUDGE in status
    assert histograms == []  # no judge learned shapes: no verdicts
    record = session["runs"][session["current"]]
    assert record["data"] == "shapes" and record["classes"] == list(shapes.CLASSES)
    facts = json.loads((folder_of(ctx, session) / "training.json").read_text())
    assert facts["family"] == "gan" and facts["steps"] == 3
    assert facts["dataset"]["name"] == "shapes" and facts["dataset"]["classes"] == list(shapes.CLASSES)
    assert ctx.store.choose("gan", session["current"], session).config.classes == 4


def test_the_mnist_path_is_unchanged(ctx):
    last, histograms = start(ctx, "gan", "mnist")
    session = last[-1]
    assert "bundled MNIST sample" in last[0] and "judge agrees" in last[0] and "no judge" not in last[0]
    assert list(histograms[-1]["class"]) == list("0123456789")  # the shipped judge's verdicts
    assert session["runs"][session["current"]]["data"] is None
    assert json.loads((folder_of(ctx, session) / "training.json").read_text())["dataset"]["name"] == "mnist-sample"


def write_zip(tmp_path, files, name="pets.zip"):
    path = tmp_path / name
    path.write_bytes(zipped(files))
    return str(path)


def test_a_zip_of_three_classes_previews_its_counts_then_trains_and_resumes_on_it(ctx, tmp_path):
    upload = write_zip(tmp_path, {**shape_files((12, 10, 7)), "notes.txt": b"not a picture"})
    grid, counts = ctx.data_preview("gan", train_data.OWN_ZIP, upload)
    assert grid.dtype == np.uint8 and grid.shape[2] == 3
    for row in ("| circle | 11 | 1 |", "| square | 9 | 1 |", "| triangle | 6 | 1 |"):
        assert row in counts
    assert "3 classes" in counts and "skipped 1 of 30 files" in counts
    last, _ = start(ctx, "vae", train_data.OWN_ZIP, upload, steps=2)
    session = last[-1]
    assert "finished: step 2/2" in last[0] and "pets.zip" in last[0]
    folder = folder_of(ctx, session)
    assert train_data.kept_zip(folder.parent, folder.name).read_bytes() == (tmp_path / "pets.zip").read_bytes()
    facts = json.loads((folder / "training.json").read_text())
    assert facts["dataset"]["classes"] == ["circle", "square", "triangle"] and facts["dataset"]["pictures"] == 29
    ctx.pictures = train_data.PictureCache()  # nothing cached: Resume reads the kept zip
    resumed = list(train_tab.train_resume(ctx, {"steps": 4}, session))[-1]
    assert "finished: step 4/4" in resumed[0] and "pets.zip" in resumed[0]  # the same pictures, from the kept zip


def test_a_zip_with_a_dotdot_entry_is_refused_with_its_message_before_any_training(ctx, tmp_path):
    upload = tmp_path / "evil.zip"
    upload.write_bytes(with_entry(zipfile.ZipInfo("circle/../../evil.png")))
    shown = preview_stream(ctx, "gan", train_data.OWN_ZIP, str(upload))
    grid, counts = next(shown)
    assert grid is None and "Could not use these pictures" in counts and "'..'" in counts
    with pytest.raises(RequestError, match="'..'"):
        next(shown)
    with pytest.raises(RequestError, match="'..'"):
        start(ctx, "gan", train_data.OWN_ZIP, str(upload))
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_zip_over_the_servers_bound_is_refused_by_its_size(ctx, tmp_path, monkeypatch):
    upload = write_zip(tmp_path, shape_files((12, 10, 7)))
    ctx.limits = dataclasses.replace(ctx.limits, max_text_bytes=1000)
    with pytest.raises(RequestError, match="at most 1,000 are accepted"):
        ctx.data_preview("gan", train_data.OWN_ZIP, upload)


def test_a_set_whose_files_are_missing_says_so_without_server_paths(ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(RequestError, match="Fashion-MNIST not found") as refused:
        ctx.data_preview("gan", "fashion-mnist", None)
    assert str(tmp_path) not in str(refused.value)


def test_choices_are_checked_and_only_image_families_pick_pictures(ctx):
    with pytest.raises(RequestError, match="data must be one of mnist, fashion-mnist, kmnist, shapes, own"):
        ctx.data_preview("gan", "../etc", None)
    assert ctx.data_preview("gpt", "shapes", None) == (None, "")
    assert [n for n in FAMILIES if train_data.picks_pictures(n)] == ["gan", "vae", "diffusion", "judge"]


def test_a_judge_trained_for_the_data_then_gives_verdicts_with_class_names(ctx, monkeypatch):
    monkeypatch.setattr(train_judges, "JUDGE_FOR_DATA",
                        dataclasses.replace(train_judges.JUDGE_FOR_DATA, steps=4, batch_size=16, warmup_steps=0))
    judged = list(train_tab.train_judge_for_data(ctx, "shapes", None, None))[-1]
    session = judged[-1]
    assert "finished: step 4/4" in judged[0] and train_judges.JUDGES_LATER in judged[0]
    assert session["runs"]["judge run 1"]["data_key"] == "shapes"
    last, histograms = start(ctx, "gan", "shapes", session=session)
    assert "verdicts by *judge run 1*" in last[0] and "judge agrees" in last[0]
    assert list(histograms[-1]["class"]) == list(shapes.CLASSES) and histograms[-1]["count"].sum() == 40
    _, elsewhere = start(ctx, "gan", "mnist", session=last[-1])  # digits still get the shipped judge
    assert list(elsewhere[-1]["class"]) == list("0123456789")


def test_the_vae_tab_shows_a_shapes_run_its_own_held_out_pictures_and_classes(ctx):
    from genlab.ui import class_names
    from genlab.ui.digit_input import SOURCES, ReferenceDigits
    from genlab.ui.tabs import vae as vae_tab
    last, _ = start(ctx, "vae", "shapes")
    session, label = last[-1], last[-1]["current"]
    test = ReferenceDigits(runs=lambda choice, state: class_names.held_out_pictures(ctx.store, ctx, "vae", choice, state))
    own = test.get(label, session)
    assert own.classes == shapes.CLASSES and own.images.shape[1:] == (28, 28)
    assert test.get("pretrained", session).classes == tuple("0123456789")
    assert class_names.classes_for(ctx.store, "vae", label, session) == shapes.CLASSES
    triptych, terms = vae_tab.reconstruction(ctx.store, test, SOURCES[1], 0, "2", 0, None, None, label, session)
    assert "ELBO" in terms and triptych.ndim == 3
    with pytest.raises(RequestError, match="class must be from 0 to 3"):
        vae_tab.reconstruction(ctx.store, test, SOURCES[1], 0, "7", 0, None, None, label, session)
    picture, _, text = vae_tab.latent_map(ctx.store, test, vae_tab.Encodings(test), SOURCES[0], 0, "3", 0, None,
                                          None, label, session)
    assert "Each dot is a test" in text and picture.size[0] > 0
