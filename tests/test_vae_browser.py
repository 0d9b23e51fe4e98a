"""A real browser draws a digit on the VAE tab's sketchpad and sees its reconstruction."""

import os

import pytest

from test_browser import ARGS, CHROMIUM
from test_ui import server  # noqa: F401  (the in-process app fixture)

if not os.path.exists(CHROMIUM) and not os.environ.get("GENLAB_REQUIRE_BROWSER"):
    pytest.skip("Chromium not installed (apt-get install -y chromium)", allow_module_level=True)


def test_a_sketched_digit_is_reconstructed(server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS, viewport={"width": 1300, "height": 1100})
        try:
            page = context.new_page()
            page.goto(server)
            page.get_by_role("tab", name="VAE").click()
            page.locator("#vae-a-source").get_by_text("sketch", exact=True).click()
            pad = page.locator("#vae-a-sketch")
            pad.get_by_role("button", name="Brush").first.click()
            canvas = pad.locator("canvas").last
            box = canvas.bounding_box()
            x, y, w, h = box["x"], box["y"], box["width"], box["height"]
            page.mouse.move(x + 0.3 * w, y + 0.2 * h)
            page.mouse.down()
            for t in range(1, 11):  # a '7': across the top, then down to the left
                page.mouse.move(x + (0.3 + 0.04 * t) * w, y + 0.2 * h)
            for t in range(1, 16):
                page.mouse.move(x + (0.7 - 0.02 * t) * w, y + (0.2 + 0.045 * t) * h)
            page.mouse.up()
            page.locator("#vae-go").click()
            expect(page.locator("#vae-terms")).to_contain_text("SSIM", timeout=60000)
            expect(page.locator("#vae-recon img")).to_be_visible()
        finally:
            context.close()
