"""Image tabs follow the chosen model's data: class names in the menus, and verdicts only from a judge
that learned the same pictures."""

import pytest
import torch

from genlab.cli.main import main
from genlab.data import shapes
from genlab.models.diffusion import solver_comparison, viewer
from genlab.params import RequestError
from genlab.ui import class_names
from genlab.ui.store import ModelStore


def test_menus_show_names_and_send_numbers():
    assert class_names.choices(("T-shirt/top", "Trouser"), ("mix",), ("none",)) == [
        ("mix", "mix"), ("0 · T-shirt/top", "0"), ("1 · Trouser", "1"), ("none", "none")]
    assert class_names.choices(tuple("01"), (), ()) == [("0", "0"), ("1", "1")]  # digits read as themselves


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    """A store with one session run: a tiny diffusion model trained 2 steps on the drawn shapes."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "diffusion", "--data", "shapes", "--steps", "2", "--batch-size", "4", "--width", "8",
                 "--save-every", "0", "--out", str(root / "r1"), "--checkpoint", str(root / "ck")]) == 0
    store = ModelStore("cpu", runs_root=root)
    return store, {"runs": {"diffusion run 1": {"family": "diffusion", "folder": "r1"}}, "current": "diffusion run 1"}


def test_a_runs_menu_lists_its_own_classes_and_the_shipped_model_the_digits(shapes_run):
    store, session = shapes_run
    assert class_names.classes_for(store, "diffusion", "diffusion run 1", session) == shapes.CLASSES
    assert class_names.classes_for(store, "diffusion", "pretrained", session) == tuple("0123456789")
    assert class_names.classes_for(store, "diffusion", "alice/model", session) == tuple("0123456789")


def test_a_run_on_other_data_gets_no_digit_judge(shapes_run):
    store, session = shapes_run
    judge, note = class_names.judge_for_model(store, "diffusion", "diffusion run 1", session)
    assert judge is None and "shapes (4 classes)" in note and "Train a judge for this data" in note
    shipped, note = class_names.judge_for_model(store, "diffusion", "pretrained", session)
    assert shipped is store.get("judge") and note == ""


def test_diffusion_asks_a_four_class_model_only_for_its_classes(shapes_run):
    store, session = shapes_run
    model = store.choose("diffusion", "diffusion run 1", session)
    mix = viewer.diffusion_request("mix", 6, 0, "ddim", 2, 1.0)
    assert viewer.labels(mix, model.null_label).tolist() == [0, 1, 2, 3, 0, 1]
    with pytest.raises(RequestError, match="this model knows classes 0-3, got 7"):
        viewer.labels(viewer.diffusion_request("7", 2, 0, "ddim", 2, 1.0), model.null_label)
    assert viewer.labels(viewer.diffusion_request("none", 2, 0, "ddim", 2, 1.0), model.null_label).tolist() == [4, 4]


def test_compare_solvers_without_a_judge_says_so(shapes_run):
    store, session = shapes_run
    model = store.choose("diffusion", "diffusion run 1", session)
    request = solver_comparison.comparison_request("2", 1, 0, 2, 1.0)
    final = list(solver_comparison.compare(model, None, request))[-1]
    assert final.done and all(r.agree is None for r in final.results)
    assert "no judge for this data" in solver_comparison.table(final, request)
    assert solver_comparison.panels(final, request).size[0] > 0
    with pytest.raises(RequestError, match="knows classes 0-3"):
        next(solver_comparison.compare(model, None, solver_comparison.comparison_request("8", 1, 0, 2, 1.0)))
    assert torch.is_tensor(final.results[0].samples)


def test_the_gan_tab_names_a_runs_classes_and_does_not_judge_them_with_the_digit_judge(shapes_run, tmp_path):
    from genlab.ui.tabs import gan as gan_tab
    store, session = shapes_run
    assert main(["train", "gan", "--data", "shapes", "--steps", "1", "--batch-size", "4", "--g-width", "4",
                 "--d-width", "4", "--save-every", "0", "--out", str(store.runs_root / "g1"),
                 "--checkpoint", str(tmp_path / "ck")]) == 0
    runs = {**session["runs"], "gan run 1": {"family": "gan", "folder": "g1"}}
    picture, summary = gan_tab.judge_verdicts(store, "mix", 8, 0, 0, "gan run 1", {"runs": runs})
    assert summary.startswith("Asked for: circle, square, triangle, cross.") and "Train a judge for this data" in summary
    assert picture.shape[0] > 0
    with pytest.raises(RequestError, match="knows classes 0-3"):
        gan_tab.judge_verdicts(store, "5", 4, 0, 0, "gan run 1", {"runs": runs})
    _, shipped = gan_tab.judge_verdicts(store, "mix", 10, 0, 0, "pretrained", {"runs": runs})
    assert shipped.startswith("**The judge agrees on")
