"""Screenshots of every tab, as a new visitor sees them (headless Chromium at 1400x1000).

    python scripts/screenshots.py [--out docs/screenshots] [--full-page]

Starts the app in this process on the CPU, opens each tab, presses its main button, waits for
the answer and saves a PNG per tab of what the window shows (the whole page with --full-page).
The README shows these files, so rerun this after changing a tab. Needs Chromium at
/usr/bin/chromium (Debian: apt-get install -y chromium) and `pip install playwright`.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.ui.app import build_app, launch_in_process  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# (tab, button to press or None, text that shows the answer has arrived, where that text appears)
TOURS = [
    ("GAN", "#gan-sample", "The judge agrees", "#gan-verdict-text"),
    ("VAE", "#vae-go", "SSIM", "#vae-terms"),
    ("Diffusion", "#diffusion-sample", "Done", "#diffusion-status"),
    ("Compare", "#compare-run", "FID", "#compare-table"),
    ("Playground", "#playground-play", "step", "#playground-status"),
    ("Text", "#text-generate", "characters/s", "#text-status"),
    ("Train", "#train-start", "step", "#train-status"),
]


def shoot(out: Path, width: int = 1400, height: int = 1000, full_page: bool = False) -> list:
    out.mkdir(parents=True, exist_ok=True)
    demo = build_app("cpu")
    url = launch_in_process(demo)
    saved = []
    try:
        saved = tour(url, out, width, height, full_page)
    finally:
        demo.close()  # the server's threads end before the interpreter does
    return saved


def tour(url: str, out: Path, width: int, height: int, full_page: bool) -> list:
    saved = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        browser = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                                                       viewport={"width": width, "height": height})
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("tab", name="GAN").wait_for(timeout=60000)
        page.locator("#gan-verdict-text").filter(has_text="The judge agrees").wait_for(timeout=120000)  # on load
        page.wait_for_function("() => [...document.querySelectorAll('#gan-grid img')].every(i => i.complete)")
        page.wait_for_timeout(1500)  # the grid fades in
        page.screenshot(path=str(out / "landing.png"))
        saved.append(out / "landing.png")
        for tab, button, answer, where in TOURS:
            page.get_by_role("tab", name=tab, exact=True).click()
            if button:
                page.locator(button).click()
                page.locator(where).filter(has_text=answer).wait_for(timeout=180000)
            if tab == "Playground":
                page.wait_for_timeout(15000)  # the GAN on the ring, long enough to see D's map take shape
                page.locator("#playground-pause").click()
                page.locator("#playground-status").filter(has_text="Paused").wait_for(timeout=60000)
            if tab == "Train":
                page.wait_for_timeout(8000)  # a few previews and loss points
                page.locator("#train-stop").click()
                page.locator("#train-status").filter(has_text="stopped at step").wait_for(timeout=60000)
            page.wait_for_timeout(1500)  # images finish loading
            path = out / f"{tab.lower()}.png"
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(path), full_page=full_page)
            saved.append(path)
        browser.close()
    return saved


def shrink(path: Path) -> None:
    """A 256-colour palette: a third of the file for flat UI colours and grey digits."""
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--full-page", action="store_true", help="the whole page, not only the window")
    args = parser.parse_args()
    for path in shoot(args.out, full_page=args.full_page):
        shrink(path)
        print(path)


if __name__ == "__main__":
    main()
