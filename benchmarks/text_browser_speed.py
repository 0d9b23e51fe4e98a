"""Text streaming speed as a person sees it: characters visible in a real browser per second,
beside the model's own rate, in one run.

Usage: python benchmarks/text_browser_speed.py [--family gpt] [--n-chars 300] [--repeats 5]

The app runs in this process on CPU; headless Chromium (/usr/bin/chromium) opens the Text tab.
Each round interleaves:
- model: generation.generate_text on the tab's own model (the shipped weights), same prompt,
  settings and length, timed from the call to its return (prompt read included);
- browser: a script in the page clicks Generate and checks the output box's text at every
  animation frame (what is painted), recording when the first new character and the last one
  are there. "click to all" is n / (last visible - click): queueing, the request and the model's
  start included. "first to all" counts the characters after the first visible frame over the
  time from that frame to the last one: the streaming alone.
Every figure is the median over --repeats rounds, after one warm-up round (model load, page code).
Target: browser "click to all" >= 0.8x the model's rate.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from genlab import weights  # noqa: E402
from genlab.models.text import generation  # noqa: E402
from genlab.registry import FAMILIES, TEXT_FAMILIES  # noqa: E402
from genlab.ui.app import build_app, launch_in_process  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROMPT = "ROMEO:"
TARGET = 0.8
TEMPERATURE = 0.8

# clicks Generate, then watches the box at every animation frame: first the old text must go
# (a run of the same seed ends in the same text), then the new text must reach its full length
WATCH = """async ([promptLength, goal]) => {
  const box = document.querySelector('#text-output textarea');
  const start = performance.now();
  document.querySelector('#text-generate').click();
  return await new Promise((resolve, reject) => {
    let cleared = false, first = null, firstChars = 0;
    const watch = () => {
      const now = performance.now(), n = box.value.length - promptLength;
      if (now - start > 120000) return reject(new Error('no complete text after 120 s'));
      if (!cleared) cleared = n < goal;
      if (cleared && first === null && n > 0) { first = now; firstChars = n; }
      if (cleared && n >= goal) return resolve({first: (first - start) / 1000, all: (now - start) / 1000, firstChars});
      requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
  });
}"""


def model_seconds(model, request) -> float:
    began = time.perf_counter()
    generation.generate_text(model, request)
    return time.perf_counter() - began


def open_text_tab(context, url: str, family_title: str, n_chars: int):
    page = context.new_page()
    page.goto(url)
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-family").get_by_text(family_title, exact=True).click()
    page.locator("#text-prompt textarea").fill(PROMPT)
    number = page.get_by_label("number input for New characters")
    number.fill(str(n_chars))
    number.blur()
    return page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=TEXT_FAMILIES, default="gpt")
    parser.add_argument("--n-chars", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    family = FAMILIES[args.family]
    model = weights.load(family).eval()
    request = generation.text_request(PROMPT, args.n_chars, TEMPERATURE, 0, 1.0, seed=0)
    demo = build_app("cpu")
    url = launch_in_process(demo)
    model_times, firsts, alls, after_first = [], [], [], []
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                           args=CHROMIUM_ARGS, viewport={"width": 1300, "height": 1100})
            page = open_text_tab(context, url, family.title, args.n_chars)
            for round_ in range(args.repeats + 1):  # round 0 warms up
                seen = page.evaluate(WATCH, [len(PROMPT), args.n_chars])
                page.wait_for_function("() => document.querySelector('#text-status').innerText.includes('/s')")
                taken = model_seconds(model, request)
                if round_:
                    model_times.append(taken)
                    firsts.append(seen["first"])
                    alls.append(seen["all"])
                    after_first.append((args.n_chars - seen["firstChars"]) / max(seen["all"] - seen["first"], 1e-9))
            context.close()
    finally:
        demo.close()

    model_rate = args.n_chars / statistics.median(model_times)
    click_rate = args.n_chars / statistics.median(alls)
    stream_rate = statistics.median(after_first)
    print(f"{family.title}: {args.n_chars} new characters after {PROMPT!r}, temperature {TEMPERATURE}, seed 0; "
          f"medians of {args.repeats} interleaved rounds after a warm-up; headless Chromium, CPU")
    print("| measure | chars/s | seconds | / model |")
    print("|---|---|---|---|")
    print(f"| model: generate_text | {model_rate:.0f} | {statistics.median(model_times):.2f} | 1.00 |")
    print(f"| browser: click to all visible | {click_rate:.0f} | {statistics.median(alls):.2f} | "
          f"{click_rate / model_rate:.2f} |")
    print(f"| browser: first visible to all visible | {stream_rate:.0f} | "
          f"{statistics.median(alls) - statistics.median(firsts):.2f} | {stream_rate / model_rate:.2f} |")
    print(f"| browser: click to first visible | | {statistics.median(firsts):.2f} | |")
    met = click_rate >= TARGET * model_rate
    print(f"target: click to all visible >= {TARGET}x the model's rate: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
