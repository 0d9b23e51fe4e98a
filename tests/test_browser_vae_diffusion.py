"""Real browser (headless Chromium): a click on the VAE's map decodes a digit; Compare solvers runs and stops."""

import re

from playwright.sync_api import expect

CLICK_TO_PICTURE = """() => {
  // window.clickToPicture: ms from the click on the map to the decoded digit's picture being loaded
  const old = (document.querySelector('#vae-point img') || {}).src;
  document.querySelector('#vae-map img').addEventListener('click', () => {
    const began = performance.now();
    const poll = () => {
      const img = document.querySelector('#vae-point img');
      if (img && img.src !== old && img.complete && img.naturalWidth) window.clickToPicture = performance.now() - began;
      else requestAnimationFrame(poll);
    };
    poll();
  }, {once: true});
}"""


def click_map(page, fx: float, fy: float) -> None:
    """Click the map picture at a fraction of its plot square (the legend is below the square)."""
    page.locator("#vae-map").scroll_into_view_if_needed()
    box = page.locator("#vae-map img").bounding_box()
    side = box["width"]  # the plot is square; the picture's extra height is its legend
    page.mouse.click(box["x"] + fx * side, box["y"] + fy * side)


def test_clicking_the_latent_map_shows_the_digit_there_and_two_clicks_walk(page):
    page.get_by_role("tab", name="VAE").click()
    page.locator("#vae-go").click()
    expect(page.locator("#vae-map-text")).to_contain_text("Click anywhere on the map", timeout=60000)
    page.wait_for_function("() => { const i = document.querySelector('#vae-map img'); "
                           "return i && i.complete && i.naturalWidth === 440; }", timeout=30000)
    page.evaluate(CLICK_TO_PICTURE)
    click_map(page, 0.7, 0.3)
    page.wait_for_function("() => window.clickToPicture !== undefined", timeout=30000)
    print(f"click to picture: {page.evaluate('window.clickToPicture'):.0f} ms")  # reported, never asserted
    expect(page.locator("#vae-point img")).to_be_visible()
    expect(page.locator("#vae-point-text")).to_contain_text("Click a second point")
    x = float(page.locator("#vae-point-x input").input_value())
    y = float(page.locator("#vae-point-y input").input_value())
    assert 0.5 < x < 1.5 and 0.5 < y < 1.5  # (0.7, 0.3) of the square: right of and above the centre
    click_map(page, 0.2, 0.8)
    expect(page.locator("#vae-point-text")).to_contain_text("walks from your previous click", timeout=30000)
    expect(page.locator("#vae-point-strip img")).to_be_visible(timeout=30000)
    expect(page.locator("#vae-point-gif img")).to_be_visible(timeout=30000)


def test_compare_solvers_runs_with_few_steps_and_stop_stops_it(page):
    page.get_by_role("tab", name="Diffusion").click()
    page.get_by_text("Compare solvers", exact=True).first.click()  # opens the accordion
    steps = page.locator("#diffusion-compare-steps input[type=number]")
    steps.fill("2")
    steps.press("Enter")
    page.locator("#diffusion-compare").click()
    table = page.locator("#diffusion-compare-table")
    expect(table).to_contain_text("Done", timeout=120000)
    assert len(re.findall(r"\d+\.\d\d s", table.inner_text())) == 4  # one wall time per solver
    assert table.inner_text().count("judge agrees") == 1
    expect(page.locator("#diffusion-compare-panels img")).to_be_visible()

    steps.fill("100")
    steps.press("Enter")
    page.locator("#diffusion-compare").click()
    expect(table).to_contain_text("solvers done", timeout=60000)  # under way
    page.locator("#diffusion-compare-stop").click()
    expect(table).to_contain_text("Stopped", timeout=30000)
    shown = table.inner_text()
    page.wait_for_timeout(3000)
    assert "Done" not in shown and table.inner_text() == shown  # nothing more came after Stop
