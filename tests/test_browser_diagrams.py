"""How it is built, in the browser: opening the accordion draws the tab's networks with their shapes."""

from playwright.sync_api import expect


def test_opening_how_it_is_built_draws_the_networks_with_shapes(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for tab, box, shape in (("GAN", "#gan-network", "1×28×28"), ("Text", "#text-network", "128×65"),
                            ("Playground", "#playground-network", "64")):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.locator(box).get_by_text("How it is built").click()
        stages = page.locator(f"{box}-diagram .net-stage")
        expect(stages.first).to_be_visible(timeout=60000)
        assert stages.count() >= 4
        expect(page.locator(f"{box}-diagram")).to_contain_text(shape)
    assert errors == [], errors
