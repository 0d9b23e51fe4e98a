"""The Train tab in headless Chromium at 1400x1000: controls and outputs above the fold for every
family, a legend that names the loss curves inside the plot, and a status that tells Stop apart."""

import re

import pytest
from playwright.sync_api import expect

from genlab.registry import FAMILIES


def inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] and inner["y"] >= outer["y"] and
            inner["x"] + inner["width"] <= outer["x"] + outer["width"] and
            inner["y"] + inner["height"] <= outer["y"] + outer["height"])


@pytest.fixture
def train_page(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("tab", name="Train").click()
    expect(page.locator("#train-start")).to_be_visible(timeout=30000)
    return page


def choose(page, title: str) -> None:
    page.locator("#train-family input").click()
    page.get_by_role("option", name=title, exact=True).click()


def test_start_and_the_loss_plot_fit_the_first_screen_for_every_family(train_page):
    screen = {"x": 0, "y": 0, "width": 1400, "height": 1000}
    for name, family in FAMILIES.items():
        choose(train_page, family.title)
        expect(train_page.locator(f"#train-{name}-form")).to_be_visible()
        train_page.evaluate("window.scrollTo(0, 0)")
        for part in ("#train-start", "#train-plot"):
            box = train_page.locator(part).bounding_box()
            assert box and inside(box, screen), (name, part, box)
        start, plot = (train_page.locator(p).bounding_box() for p in ("#train-start", "#train-plot"))
        assert start["x"] + start["width"] <= plot["x"], name  # controls left of the outputs


def test_the_legend_names_the_curves_inside_the_plot_and_stop_says_where_it_stopped(train_page):
    train_page.locator("#train-gan-recipe-steps input").fill("400")
    train_page.locator("#train-gan-recipe-batch_size input").fill("16")
    train_page.locator("#train-start").click()
    expect(train_page.locator("#train-status")).to_contain_text("steps/s", timeout=60000)
    legend = train_page.locator("#train-plot").get_by_text("held-out D loss", exact=True)
    expect(legend).to_be_visible(timeout=60000)
    plot = train_page.locator("#train-plot").bounding_box()
    for series in ("D loss", "G loss", "held-out D loss"):
        label = train_page.locator("#train-plot").get_by_text(series, exact=True)
        assert inside(label.bounding_box(), plot), series
    train_page.locator("#train-stop").click()
    status = train_page.locator("#train-status")
    expect(status).to_contain_text("stopped at step", timeout=60000)
    assert "ETA" not in status.inner_text() and "Resume" in status.inner_text()
    stopped = int(re.search(r"stopped at step (\d+) of 400", status.inner_text()).group(1))
    train_page.locator("#train-resume").click()
    expect(status).to_contain_text("steps/s", timeout=60000)
    shown = int(re.search(r"step (\d+)/400", status.inner_text()).group(1))
    assert shown > stopped
    train_page.locator("#train-stop").click()
    expect(status).to_contain_text("stopped at step", timeout=60000)
