"""The Compare tab in headless Chromium: every measured figure per family, real data's value beside it,
and a note on what it measures."""

import os

from playwright.sync_api import expect

from genlab.eval import metric_notes


def test_compare_tab_shows_every_figure_with_real_data_beside_it(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-n input[type=number]").fill("2")
    page.locator("#compare-n input[type=number]").press("Enter")
    page.locator("#compare-run").click()
    table = page.locator("#compare-table")
    expect(table).to_contain_text("Measured quality", timeout=180000)
    text = table.inner_text()
    for figure in ("FID (judge)", "class KL", "class EMD", "feature KL", "feature EMD", "feature entropy",
                   "precision", "recall"):
        assert figure in text and metric_notes.NOTES[figure] in text, figure
    assert "(real " in text
    shots = os.environ.get("GENLAB_SHOTS")  # a folder to keep a screenshot in, for a person to look at
    if shots:
        table.scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(shots, "compare.png"), full_page=True)
