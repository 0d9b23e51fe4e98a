"""One real browser: open the page, click the GAN tab, sample, see the image."""

import os
import shutil

import pytest

from test_ui import server  # noqa: F401  (the in-process app fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM) and not os.environ.get("GENLAB_REQUIRE_BROWSER"):
    pytest.skip("Chromium not installed (apt-get install -y chromium)", allow_module_level=True)


def test_gan_tab_samples_in_a_real_browser(server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS)
        try:
            page = context.new_page()
            page.goto(server)
            page.get_by_role("tab", name="GAN").click()
            page.locator("#gan-sample").click()
            page.locator("#gan-digit input").click()
            page.get_by_role("option", name="3", exact=True).click()  # a new digit triggers a new grid
            image = page.locator("#gan-grid img")
            expect(image).to_be_visible(timeout=30000)
            # a single digit: 40 samples as a 7x6 grid, 3x upscaled (the page-load 'mix' grid is 10 wide)
            expected = (7 * 30 + 2) * 3
            page.wait_for_function(
                f"() => {{ const i = document.querySelector('#gan-grid img'); "
                f"return i && i.complete && i.naturalWidth === {expected}; }}", timeout=30000)
            expect(page.locator("#gan-verdict-text")).to_contain_text("The judge agrees", timeout=30000)
        finally:
            context.close()
