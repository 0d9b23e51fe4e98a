"""The Playground in headless Chromium: Play trains the GAN on the ring and the picture of D's map
changes while it runs; Pause stops it; no errors in the console."""

import re

import pytest
from playwright.sync_api import expect


@pytest.fixture
def playground(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.reload()
    page.get_by_role("tab", name="Playground").click()
    expect(page.locator("#playground-status")).to_contain_text("step 0", timeout=60000)  # drawn on page load
    yield page
    assert errors == [], errors


def shown_step(page) -> int:
    found = re.search(r"step ([\d,]+)", page.locator("#playground-status").inner_text())
    return int(found[1].replace(",", "")) if found else -1


def test_playing_the_gan_changes_d_map_and_pause_stops_it(playground):
    page = playground
    before = page.locator("#playground-main img").screenshot()
    page.locator("#playground-play").click()
    page.wait_for_function("() => /step [1-9][\\d,]*[0-9]?/.test(document.querySelector('#playground-status')"
                           ".innerText) && !/step [1-4] /.test(document.querySelector('#playground-status').innerText)",
                           timeout=90000)
    page.wait_for_timeout(3000)  # a few seconds of training
    during = page.locator("#playground-main img").screenshot()
    assert during != before  # D's map, G's grid and the samples have moved
    page.locator("#playground-pause").click()
    expect(page.locator("#playground-status")).to_contain_text("Paused", timeout=15000)
    paused_at = shown_step(page)
    page.wait_for_timeout(1500)
    assert shown_step(page) == paused_at > 5
    page.locator("#playground-step-d").click()  # one D step (after the frame Pause caught mid-way, if any)
    expect(page.locator("#playground-status")).to_contain_text("D only", timeout=30000)
    assert paused_at < shown_step(page) <= paused_at + 1 + 50
