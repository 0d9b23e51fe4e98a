"""Training on other data end to end through the CLI: the class count comes from the data, the run
records where its data came from, and metrics refuse a judge trained on other pictures."""

import json

import numpy as np
import pytest
import torch

from genlab import weights
from genlab.cli.main import main
from genlab.data import image_sets, shapes
from genlab.models import sampling
from genlab.registry import FAMILIES
from genlab.train import provenance

from test_image_data import tiny_fashion  # noqa: F401  (a fixture)

TINY = {"gan": ["--g-width", "4", "--d-width", "4", "--z-dim", "4"], "vae": ["--width", "4"],
        "diffusion": ["--width", "8"], "judge": ["--width", "4", "--feature-dim", "8"]}


def test_drawn_shapes_are_deterministic_labelled_and_mnist_like():
    a, b = shapes.load_shapes("test", n=40), shapes.load_shapes("test", n=40)
    assert np.array_equal(a.images, b.images) and a.images.shape == (40, 28, 28) and a.images.dtype == np.uint8
    assert a.classes == shapes.CLASSES and a.labels.tolist()[:5] == [0, 1, 2, 3, 0]
    assert a.images[:, 0, :].max() < 64 and a.images.max() == 255  # white shapes on a black border
    assert not np.array_equal(shapes.load_shapes("train", n=40).images, a.images)
    with pytest.raises(ValueError, match="split must be one of"):
        shapes.load_shapes("validation")


@pytest.mark.parametrize("name", ["gan", "vae", "diffusion", "judge"])
def test_each_image_family_trains_on_shapes_and_records_its_data(name, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", name, "--data", "shapes", "--steps", "2", "--batch-size", "8", "--save-every", "0",
                 "--out", str(out), "--checkpoint", str(tmp_path / "ckpt"), *TINY[name]])
    assert code == 0
    facts = json.loads((out / "training.json").read_text())
    assert facts["family"] == name and facts["dataset"]["name"] == "shapes"
    assert facts["dataset"]["classes"] == list(shapes.CLASSES) and len(facts["dataset"]["sha256"]) == 64
    assert provenance.classes_of(out) == shapes.CLASSES
    model = weights.load(FAMILIES[name], out)
    if hasattr(model.config, "classes"):
        assert model.config.classes == 4
    if FAMILIES[name].output == "image":
        images = sampling.sample_digits(model, sampling.digit_request("mix", 8, 0))
        assert images.shape == (8, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
        if hasattr(model.config, "classes"):
            with pytest.raises(ValueError, match="this model knows classes 0-3"):
                sampling.sample_digits(model, sampling.digit_request("7", 1, 0))


def test_a_run_on_other_data_never_overwrites_the_shipped_weights_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "judge", "--data", "shapes", "--steps", "1", "--batch-size", "4", *TINY["judge"]]) == 0
    assert (tmp_path / "runs" / "judge-shapes" / "training.json").is_file()
    assert (tmp_path / "runs" / "judge-shapes-checkpoint").is_dir()


def test_resuming_with_data_of_another_class_count_is_refused(tmp_path, capsys):
    common = ["--steps", "1", "--batch-size", "4", "--checkpoint", str(tmp_path / "ck"), *TINY["judge"]]
    assert main(["train", "judge", "--data", "shapes", "--out", str(tmp_path / "a"), *common]) == 0
    assert main(["train", "judge", "--init", str(tmp_path / "a"), "--out", str(tmp_path / "b"), "--steps", "1",
                 "--batch-size", "4"]) == 2  # MNIST has 10 classes, the model 4
    assert "does not fit this data: classes 4 in the model, 10 in the data" in capsys.readouterr().err


def test_eval_refuses_a_judge_trained_on_other_data(tmp_path, capsys):
    common = ["--steps", "1", "--batch-size", "4", "--save-every", "0"]
    assert main(["train", "vae", "--data", "shapes", "--out", str(tmp_path / "vae"),
                 "--checkpoint", str(tmp_path / "c1"), *common, *TINY["vae"]]) == 0
    assert main(["eval", str(tmp_path / "vae"), "--n", "100"]) == 2  # the shipped judge knows digits
    err = capsys.readouterr().err
    assert "was trained on mnist (10 classes)" in err and "on shapes (4 classes)" in err
    assert main(["eval", str(tmp_path / "nowhere")]) == 2
    assert "neither a family" in capsys.readouterr().err


def test_a_users_zip_must_be_given_again_and_be_the_same_bytes(tmp_path):
    record = {"dataset": {"name": "pets.zip", "files": 3, "pictures": 3, "sha256": "ab" * 32, "classes": ["a", "b"]}}
    weights.write_json(tmp_path / "training.json", record)
    from genlab.cli.evaluate import data_for
    with pytest.raises(ValueError, match="give the same .zip or folder with --data"):
        data_for(tmp_path, None)


def test_named_sets_are_found_again_by_name(tmp_path):
    weights.write_json(tmp_path / "training.json", {"dataset": {"name": "shapes", "classes": list(shapes.CLASSES)}})
    from genlab.cli.evaluate import data_for
    splits = data_for(tmp_path, None)
    assert splits.test.classes == shapes.CLASSES and len(splits.test) == shapes.SIZES["test"]
    assert set(image_sets.IMAGE_SOURCES["shapes"].classes) == set(shapes.CLASSES)
    assert torch.is_tensor(sampling.labels_for(6, None, 4)) and sampling.labels_for(6, None, 4).tolist() == [0, 1, 2, 3, 0, 1]


@pytest.mark.parametrize("name", ["gan", "vae", "diffusion", "judge"])
def test_each_image_family_trains_on_a_zip_and_on_a_tiny_idx_set(name, tmp_path, tiny_fashion, monkeypatch):
    from test_image_data import shape_files, zipped
    archive = tmp_path / "three.zip"
    archive.write_bytes(zipped(shape_files()))  # circle, square, triangle
    blobs, _, _ = tiny_fashion
    data_dir = tmp_path / "mnist"
    (data_dir / "fashion-mnist").mkdir(parents=True)
    for blob_name, blob in blobs.items():
        (data_dir / "fashion-mnist" / blob_name).write_bytes(blob)
    monkeypatch.setenv("GENLAB_DATA_DIR", str(data_dir))
    for data, classes in ((str(archive), ("circle", "square", "triangle")), ("fashion-mnist", 10)):
        out = tmp_path / f"run-{len(str(data))}"
        assert main(["train", name, "--data", data, "--steps", "2", "--batch-size", "4", "--save-every", "0",
                     "--out", str(out), "--checkpoint", str(out) + "-ck", *TINY[name]]) == 0
        recorded = provenance.classes_of(out)
        assert (recorded == classes) if isinstance(classes, tuple) else len(recorded) == classes
        model = weights.load(FAMILIES[name], out)
        if FAMILIES[name].output == "image":
            asked = sampling.digit_request("mix", 6, 0)
            assert sampling.sample_digits(model, asked).shape == (6, 1, 28, 28)
            if hasattr(model.config, "classes"):
                assert model.config.classes == len(recorded)


def test_a_judge_trained_on_drawn_shapes_tells_them_apart(tmp_path, monkeypatch):
    from genlab.eval import metrics
    from genlab.ui import train_judges
    monkeypatch.setattr(shapes, "SIZES", {"train": 800, "test": 200})
    out = tmp_path / "judge"
    recipe = train_judges.JUDGE_FOR_DATA  # what the Train tab's "Train a judge for this data" runs
    assert main(["train", "judge", "--data", "shapes", "--steps", str(recipe.steps), "--batch-size",
                 str(recipe.batch_size), "--lr", str(recipe.lr), "--warmup-steps", str(recipe.warmup_steps),
                 "--schedule", recipe.schedule, "--save-every", "0", "--out", str(out),
                 "--checkpoint", str(tmp_path / "ck")]) == 0
    splits = image_sets.load_named("shapes")
    result = metrics.evaluate(FAMILIES["judge"], weights.load(FAMILIES["judge"], out), None, n=200, data=splits,
                              progress=lambda m: None)
    assert result["summary"]["test accuracy"] >= 0.9  # four classes: chance is 0.25
