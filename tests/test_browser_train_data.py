"""The Train tab's picture picker in headless Chromium: pick drawn shapes, see real examples of each class
and the counts, Start, see a preview; train a judge for shapes and see the next run's verdicts by class
name; upload a zip of class folders and see its classes. Screenshots go to $GENLAB_SHOTS."""

import dataclasses
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from genlab.data import shapes
from genlab.ui import train_judges

from test_browser_train import train_page  # noqa: F401  (a fixture: the Train tab, opened)
from test_image_data import shape_files, zipped

SHOTS = Path(os.environ.get("GENLAB_SHOTS", "/tmp/shots/train-data"))


@pytest.fixture(autouse=True)
def few_shapes(monkeypatch):
    monkeypatch.setattr(shapes, "SIZES", {"train": 400, "test": 80})  # drawn in a moment (the server is in-process)


def pick(page, title: str) -> None:
    page.locator("#train-data-choice input").click()
    page.get_by_role("option", name=title, exact=True).click()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_pick_shapes_see_examples_and_counts_then_start_and_see_a_preview(train_page):
    expect(train_page.locator("#train-data-counts")).to_contain_text("10 classes", timeout=30000)  # MNIST first
    pick(train_page, "drawn shapes")
    counts = train_page.locator("#train-data-counts")
    expect(counts).to_contain_text("4 classes", timeout=60000)
    for name in shapes.CLASSES:
        expect(counts).to_contain_text(name)
    expect(train_page.locator("#train-data-grid img")).to_be_visible()
    train_page.locator("#train-gan-recipe-steps input").fill("6")
    train_page.locator("#train-gan-recipe-batch_size input").fill("8")
    train_page.locator("#train-start").click()
    status = train_page.locator("#train-status")
    expect(status).to_contain_text("finished", timeout=120000)
    expect(status).to_contain_text("drawn shapes")
    expect(status).to_contain_text("Train a judge for this data")
    expect(train_page.locator("#train-preview img")).to_be_visible()
    shot(train_page, "shapes.png")


def test_a_judge_trained_for_shapes_gives_the_next_run_verdicts_named_by_class(train_page, monkeypatch):
    monkeypatch.setattr(train_judges, "JUDGE_FOR_DATA", dataclasses.replace(train_judges.JUDGE_FOR_DATA, steps=30))
    pick(train_page, "drawn shapes")
    expect(train_page.locator("#train-data-counts")).to_contain_text("4 classes", timeout=60000)
    status = train_page.locator("#train-status")
    for _ in range(60):  # an earlier test's run may still be saving its last checkpoint: one trains at a time
        train_page.locator("#train-judge-for-data").click()
        expect(status).to_contain_text(re.compile("Judge .*step|in progress"), timeout=60000)
        if "in progress" not in status.inner_text():
            break
        train_page.wait_for_timeout(1000)
    expect(status).to_contain_text("finished: step 30/30", timeout=180000)
    train_page.locator("#train-gan-recipe-steps input").fill("6")
    train_page.locator("#train-gan-recipe-batch_size input").fill("8")
    train_page.locator("#train-start").click()
    expect(status).to_contain_text("GAN", timeout=60000)
    expect(status).to_contain_text("finished", timeout=120000)
    expect(status).to_contain_text("verdicts by judge run 1")
    histogram = train_page.locator("#train-histogram")
    for name in shapes.CLASSES:
        expect(histogram.get_by_text(name, exact=True)).to_be_visible()
    shot(train_page, "shapes-judged.png")


def test_a_zip_of_class_folders_shows_its_classes_and_counts(train_page, tmp_path):
    pick(train_page, "my own zip of class folders")
    expect(train_page.locator("#train-data-counts")).to_contain_text("Upload a .zip", timeout=30000)
    upload = tmp_path / "pets.zip"
    upload.write_bytes(zipped({**shape_files((12, 10, 7)), "readme.txt": b"hello"}))
    train_page.locator("#train-data-zip input[type=file]").set_input_files(str(upload))
    counts = train_page.locator("#train-data-counts")
    expect(counts).to_contain_text("3 classes", timeout=60000)
    expect(counts).to_contain_text("skipped 1 of 30 files")
    expect(train_page.locator("#train-data-grid img")).to_be_visible()
    shot(train_page, "zip.png")
