"""Soak: training runs started and abandoned against `python app.py --public` for a long time.

Usage: python benchmarks/soak.py [--minutes 30] [--every 20]
Every `--every` seconds a new visitor (a fresh gradio_client session) starts a training run (the GAN
or, every third visitor, a GPT on pasted text), watches it for a few seconds, presses Stop and
never comes back; every fourth visitor instead samples digits on the diffusion tab, whose
streamed frames land in Gradio's cache. Prints, every minute, the server's resident memory and
the disk its runs and Gradio's cache use; both must level off (public mode keeps at most ServerLimits.max_runs runs,
deletes runs idle for an hour and frees timelines), not grow with the number of visitors.
"""

import argparse
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import Client  # noqa: E402

from load_test import ENDPOINTS, rss_mb  # noqa: E402
from timing import served  # noqa: E402

TLS = ssl.create_default_context()
DIFFUSION_API, DIFFUSION = ENDPOINTS["diffusion"]
TEXT = ("Soak test text, written for this benchmark: a keeper, a traveller and a road to the sea.\n" * 400)


def disk_mb(folder: Path) -> float:
    out = subprocess.run(["du", "-sk", str(folder)], capture_output=True, text=True).stdout.split()
    return int(out[0]) / 1024 if out else float("nan")


def visit(url: str, number: int, watch_seconds: float) -> str:
    """One visitor: start a run, watch it for a while, press Stop and never come back."""
    client = Client(url, verbose=False, analytics_enabled=False, ssl_verify=TLS)
    if number % 4 == 3:  # a sampler visitor: its streamed frames land in Gradio's cache
        client.predict(*DIFFUSION(number), api_name=DIFFUSION_API)
        return "sampled"
    text_run = number % 3 == 2
    kwargs = {"source": "my own text", "pasted": TEXT} if text_run else {}
    job = client.submit("gpt" if text_run else "gan", uploaded=None, api_name="/train_start", **kwargs)
    began = time.time()
    while time.time() - began < watch_seconds and not job.done():
        time.sleep(0.2)
    if not job.done():
        try:
            job.cancel()
        except Exception as err:  # noqa: BLE001 - a slow answer to Stop is counted, not fatal
            return f"stop unanswered ({type(err).__name__})"
        return "stopped"
    return "refused" if job.exception() is not None else "finished"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=20, help="seconds between visitors")
    parser.add_argument("--watch", type=float, default=8, help="seconds a visitor watches its run")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="genlab-soak-"))
    env = {"TMPDIR": str(scratch), "GRADIO_TEMP_DIR": str(scratch / "gradio")}
    print(f"soak: a visitor every {args.every:g} s for {args.minutes:g} min against app.py --public\n")
    print("| minute | visitors | outcomes so far | server RSS | disk (runs + cache) |")
    print("|---|---|---|---|---|")
    outcomes: dict = {}
    with served([sys.executable, "app.py", "--public"], ROOT, env) as (url, _, process):
        began = time.time()
        next_report, visitors = 0.0, 0
        while time.time() - began < args.minutes * 60:
            outcome = visit(url, visitors, args.watch)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            visitors += 1
            elapsed = time.time() - began
            if elapsed >= next_report:
                summary = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                print(f"| {elapsed / 60:.1f} | {visitors} | {summary} | {rss_mb(process.pid):.0f} MB | "
                      f"{disk_mb(scratch):.1f} MB |", flush=True)
                next_report += 60
            time.sleep(max(0.0, args.every - args.watch))
        print(f"\nend: {visitors} visitors; server RSS {rss_mb(process.pid):.0f} MB; disk {disk_mb(scratch):.1f} MB")


if __name__ == "__main__":
    main()
