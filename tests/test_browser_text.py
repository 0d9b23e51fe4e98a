"""The Text tab in a real browser (headless Chromium): Stop, the token view as running text, picking
a character by click and by typed position, and no console errors along the way."""

import re

from playwright.sync_api import expect

from genlab.ui.tabs import text as text_tab

GAP = 4  # pixels: a line break moves the next character down by a line, far more than this


def _errors_watched(page) -> list:
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.reload()  # the fixture opened the page before anyone listened
    return errors


def _set_number(page, label: str, value) -> None:
    box = page.get_by_label(f"number input for {label}")
    box.fill(str(value))
    box.blur()


def _top(page, index: int) -> float:
    return page.locator(f'#text-tokens span[data-i="{index}"]').bounding_box()["y"]


def test_stop_then_a_finished_run_read_as_text_and_picked_by_click_or_typing(page):
    errors = _errors_watched(page)
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-prompt textarea").fill("ROMEO:")
    _set_number(page, "New characters", 2000)
    page.locator("#text-generate").click()
    box = page.locator("#text-output textarea")
    page.wait_for_function("() => document.querySelector('#text-output textarea').value.length > 40", timeout=60000)
    page.locator("#text-stop").click()
    status = page.locator("#text-status")
    expect(status).to_contain_text(re.compile(r"Stopped at [\d,]+ of 2,000 characters"), timeout=10000)
    shown = len(box.input_value()) - len("ROMEO:")
    assert 0 < shown < 2000
    page.wait_for_timeout(1000)
    assert len(box.input_value()) - len("ROMEO:") == shown  # nothing arrives after Stop
    expect(page.locator("#text-tokens")).to_contain_text("appears when a run finishes")  # no earlier run's view
    expect(page.locator("#text-tokens span[data-i]")).to_have_count(0)

    _set_number(page, "New characters", 300)
    page.locator("#text-generate").click()
    expect(status).to_contain_text("characters/s", timeout=60000)
    text = box.input_value()[len("ROMEO:"):]
    spans = page.locator("#text-tokens span[data-i]")
    expect(spans).to_have_count(300)
    breaks = [i for i, c in enumerate(text) if c == "\n" and 0 < i < len(text) - 1]
    assert breaks, text  # Shakespeare's speeches end in newlines
    i = breaks[0]
    assert _top(page, i + 1) > _top(page, i - 1) + GAP  # the character after a newline starts a new line
    assert _top(page, 3) == _top(page, 4) or text[3] == "\n"  # neighbours share a line: running text
    expect(page.locator("#text-alternative-summary")).to_contain_text("Character 1:", timeout=10000)

    target = page.locator('#text-tokens span[data-i="10"]')
    target.click()
    expect(target).to_have_class(re.compile("picked"))
    expect(page.locator("#text-tokens span.picked")).to_have_count(1)
    expect(page.locator("#text-alternative-summary")).to_contain_text("Character 11:", timeout=10000)
    expect(page.get_by_label("number input for Position")).to_have_value("11")

    page.get_by_label("number input for Position").fill("7")  # typed, not released: .input alone must do
    expect(page.locator("#text-alternative-summary")).to_contain_text("Character 7:", timeout=10000)
    expect(page.locator('#text-tokens span[data-i="6"]')).to_have_class(re.compile("picked"))
    assert errors == [], errors


def test_a_refused_request_leaves_no_results_of_the_last_run(page):
    page.get_by_role("tab", name="Text").click()
    _set_number(page, "New characters", 20)
    page.locator("#text-generate").click()
    expect(page.locator("#text-status")).to_contain_text("characters/s", timeout=60000)
    expect(page.locator("#text-tokens span[data-i]")).to_have_count(20)
    seed = page.get_by_label("Seed", exact=True).locator("visible=true")  # other tabs have seeds too
    seed.fill("-5")
    seed.blur()
    page.locator("#text-generate").click()
    expect(page.locator(".toast-body").first).to_contain_text("-5", timeout=30000)
    expect(page.locator("#text-tokens span[data-i]")).to_have_count(0)
    expect(page.locator("#text-alternative-summary")).not_to_contain_text("Character")
    expect(page.locator("#text-status")).to_contain_text("refused")
    expect(page.locator("#text-tokens")).to_contain_text(text_tab.VIEW_EMPTY[text_tab.VIEW_EMPTY.index(">") + 1:-4])
    assert page.locator("#text-output textarea").input_value() == ""


def test_a_picked_character_shows_attention_and_the_pipeline_and_the_lstm_says_it_has_none(page):
    errors = _errors_watched(page)
    page.get_by_role("tab", name="Text").click()
    _set_number(page, "New characters", 60)
    page.locator("#text-generate").click()
    expect(page.locator("#text-status")).to_contain_text("characters/s", timeout=60000)
    attention, pipeline = page.locator("#text-attention"), page.locator("#text-pipeline")
    expect(attention).to_contain_text("Writing character", timeout=30000)  # the first character, after the run

    page.locator('#text-tokens span[data-i="40"]').click()
    expect(attention).to_contain_text("Writing character 41", timeout=30000)  # counted as the token view counts
    maps = attention.locator(".attn-map")
    expect(maps).to_have_count(1 + 4 * 5)  # all, then per layer its average and 4 heads
    expect(attention.locator(".attn-large span.attn-next")).to_have_count(1)
    expect(pipeline.locator(".pipe-stage")).to_have_count(4)
    expect(pipeline.locator(".pipe-row.drawn")).to_have_count(4)  # the drawn character, marked in every stage

    attention.locator('.attn-map[data-layer="3"][data-head="2"]').click()
    expect(attention).to_contain_text("layer 3, head 2", timeout=30000)
    expect(attention.locator('.attn-map.chosen[data-layer="3"][data-head="2"]')).to_have_count(1)

    _set_number(page, "Top-k (0 = off)", 5)  # a knob moved: the pipeline follows, the picked character stays
    expect(pipeline).to_contain_text("top-k 5", timeout=30000)
    expect(pipeline.locator(".pipe-stage").nth(2)).to_contain_text("5 of 65 characters can be drawn")
    expect(attention).to_contain_text("Writing character 41")

    page.locator("#text-family").get_by_text("LSTM").click()
    page.locator("#text-generate").click()
    expect(attention).not_to_contain_text("Writing character", timeout=10000)  # the last run's view goes at once
    expect(page.locator("#text-status")).to_contain_text("LSTM", timeout=60000)
    page.locator('#text-tokens span[data-i="5"]').click()
    expect(attention).to_contain_text("has no attention", timeout=30000)
    expect(pipeline.locator(".pipe-stage")).to_have_count(4)
    expect(pipeline).to_contain_text("Character 6")
    assert errors == [], errors
