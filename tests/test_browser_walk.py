"""A new visitor's walk through every tab in headless Chromium at 1400x1000: no console errors, no
picture covered by its own label or buttons, legible diffusion digits, Stop and sketch behave."""

import re
import time

import pytest
from playwright.sync_api import expect

from genlab.models.diffusion import viewer

# For every visible image: the box its picture is drawn in (object-fit applied) and the boxes of
# its component's floating label and buttons. Returns [{id, content, chrome: [...]}].
PICTURES_AND_CHROME = """() => {
  const box = r => [r.left, r.top, r.right, r.bottom];
  return [...document.querySelectorAll('.block img')].filter(i => i.offsetParent && i.naturalWidth).map(img => {
    const r = img.getBoundingClientRect(), fit = getComputedStyle(img).objectFit;
    let s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
    if (fit === 'scale-down') s = Math.min(1, s);
    if (fit === 'fill') s = NaN;
    const w = isNaN(s) ? r.width : img.naturalWidth * s, h = isNaN(s) ? r.height : img.naturalHeight * s;
    const left = r.left + (r.width - w) / 2, top = r.top + (r.height - h) / 2;
    const block = img.closest('.block');
    const chrome = [...block.querySelectorAll('label.float, .icon-button-wrapper')]
      .filter(e => e.offsetParent).map(e => box(e.getBoundingClientRect()));
    return {id: block.id, content: [left, top, left + w, top + h], chrome, width: w, natural: img.naturalWidth};
  });
}"""


def overlaps(a, b) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def assert_nothing_covers_a_picture(page, tab: str) -> int:
    pictures = page.evaluate(PICTURES_AND_CHROME)
    for picture in pictures:
        for chrome in picture["chrome"]:
            assert not overlaps(picture["content"], chrome), f"{tab}: {picture['id']} is covered by {chrome}"
    return len(pictures)


def interpolate(page, accordion: str, button: str, strip: str) -> None:
    """Open a tab's interpolation accordion, run it and wait for the strip to be drawn."""
    page.get_by_text(accordion, exact=True).click()
    page.locator(button).click()
    drawn(page, strip, strip.replace("strip", "gif"))


def drawn(page, *blocks: str) -> None:
    """Wait until each block shows a loaded image (a picture's text may arrive before its pixels)."""
    for block in blocks:
        page.wait_for_function(f"() => {{ const i = document.querySelector('{block} img'); "
                               f"return i && i.complete && i.naturalWidth > 0; }}", timeout=60000)


@pytest.fixture
def visitor(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.reload()
    page.get_by_role("tab", name="GAN").wait_for(timeout=60000)
    yield page
    assert errors == [], errors


def test_every_tab_shows_its_pictures_uncovered_and_logs_no_errors(visitor):
    page = visitor
    expect(page.locator("#gan-verdict-text")).to_contain_text("The judge agrees", timeout=60000)  # on page load
    drawn(page, "#gan-grid")
    sample = page.locator("#gan-sample").bounding_box()
    assert sample["y"] + sample["height"] <= 1000, sample  # the main button needs no scrolling
    shown = {"GAN": assert_nothing_covers_a_picture(page, "GAN")}
    interpolate(page, "Latent interpolation", "#gan-interpolate", "#gan-strip")
    shown["GAN strip"] = assert_nothing_covers_a_picture(page, "GAN")
    page.get_by_role("tab", name="VAE").click()
    page.locator("#vae-go").click()
    expect(page.locator("#vae-map-text")).to_contain_text("ring", timeout=60000)
    drawn(page, "#vae-recon", "#vae-map", "#vae-grid")
    shown["VAE"] = assert_nothing_covers_a_picture(page, "VAE")
    interpolate(page, "Interpolate from A to B", "#vae-interpolate", "#vae-strip")
    shown["VAE strip"] = assert_nothing_covers_a_picture(page, "VAE")
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-run").click()
    expect(page.locator("#compare-table")).to_contain_text("FID", timeout=120000)
    page.wait_for_timeout(500)
    shown["Compare"] = assert_nothing_covers_a_picture(page, "Compare")
    assert shown["GAN"] >= 1 and shown["VAE"] >= 3 and shown["Compare"] >= 3, shown
    assert shown["GAN strip"] >= shown["GAN"] + 2 and shown["VAE strip"] >= shown["VAE"] + 2, shown  # strip, GIF


def test_diffusion_mix_digits_are_legible_and_stop_says_where_it_stopped(visitor):
    page = visitor
    page.get_by_role("tab", name="Diffusion").click()
    page.locator("#diffusion-sample").click()
    expect(page.locator("#diffusion-status")).to_contain_text("Done", timeout=120000)
    page.wait_for_timeout(500)
    assert_nothing_covers_a_picture(page, "Diffusion")
    live = [p for p in page.evaluate(PICTURES_AND_CHROME) if p["id"] == "diffusion-live"][0]
    scale = live["natural"] / (10 * 30 + 2)  # a 'mix' of 20: ten columns of 28 px digits, 2 px apart, stacked
    assert 28 * scale * live["width"] / live["natural"] >= viewer.MIN_DIGIT_PX
    gif = [p for p in page.evaluate(PICTURES_AND_CHROME) if p["id"] == "diffusion-gif"][0]
    assert 28 * gif["width"] / (10 * 30 + 2) >= viewer.MIN_DIGIT_PX  # the GIF is drawn 1x and shown wide
    # a number typed beside the scrubber (not dragged) moves the picture to that kept step
    scrubber_box = page.get_by_label("number input for Kept steps", exact=False)
    scrubber_box.fill("0")
    expect(page.locator("#diffusion-status")).to_contain_text(re.compile(r"step \d+ \(t = \d+\)"), timeout=10000)
    # a long run (DDPM, 1000 steps), stopped after a few frames
    page.locator("#diffusion-steps input[type=number]").fill("1000")
    page.get_by_text("DDPM (ancestral", exact=False).click()
    page.locator("#diffusion-steps input[type=number]").fill("1000")
    page.locator("#diffusion-steps input[type=number]").press("Enter")
    page.locator("#diffusion-sample").click()
    expect(page.locator("#diffusion-status")).to_contain_text("ETA", timeout=60000)
    page.locator("#diffusion-stop").click()
    expect(page.locator("#diffusion-status")).to_contain_text("Stopped at step", timeout=10000)
    status = page.locator("#diffusion-status").inner_text()
    time.sleep(1.5)
    assert page.locator("#diffusion-status").inner_text() == status  # nothing arrives after Stop
    assert page.locator("#diffusion-gif img").count() == 0  # the previous run's GIF went at the click
    assert re.search(r"Stopped at step \d+ of 1000", status) and "Error" not in status


def test_drawing_a_digit_selects_the_sketch_source(visitor):
    page = visitor
    page.get_by_role("tab", name="VAE").click()
    checked = page.locator("#vae-a-source input:checked")
    expect(checked).to_have_value("test digit #")
    pad = page.locator("#vae-a-sketch")
    pad.get_by_role("button", name="Brush").first.click()
    box = pad.locator("canvas").last.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.3 * w, y + 0.2 * h)
    page.mouse.down()
    for t in range(1, 11):
        page.mouse.move(x + (0.3 + 0.04 * t) * w, y + (0.2 + 0.05 * t) * h)
    page.mouse.up()
    expect(checked).to_have_value("sketch", timeout=15000)


def test_train_previews_are_uncovered_and_text_and_train_log_no_errors(visitor):
    page = visitor
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-generate").click()
    expect(page.locator("#text-status")).to_contain_text("characters/s", timeout=60000)
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-start").click()
    expect(page.locator("#train-preview img")).to_be_visible(timeout=60000)
    page.wait_for_timeout(500)
    assert assert_nothing_covers_a_picture(page, "Train") >= 1
    page.locator("#train-stop").click()
    expect(page.locator("#train-status")).to_contain_text("stopped at step", timeout=30000)
