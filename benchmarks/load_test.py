"""Load test: N concurrent gradio_client users against `python app.py` for a bounded time.

Usage: python benchmarks/load_test.py [--users 32] [--seconds 60] [--endpoints gan vae text diffusion]
                                     [--batching on off] [--beside diffusion_max text_max] [--public]
Prints requests accepted, refused because the queue was full, other errors (must be 0), p50/p95
latency per endpoint, the server's memory before and after, and the files left in its cache.
`--batching on off` runs the same load twice, with the GAN endpoint batching users (the app's default,
genlab.ui.tabs.gan.MAX_BATCH) and without ($GENLAB_MAX_BATCH=1), and prints both, so the gain is measured
in one run.
`--beside` adds one user per named endpoint that sends it back to back the whole time (for example
the largest diffusion and text requests public mode accepts), to show what they do to the others.
Targets on a 2-core machine: 32 users on the GAN endpoint, 0 errors, >= 30 answers/s, p95 <= 1 s; GAN
p95 <= 2 s with 32 users on every endpoint; memory growth under 100 MB over 500 requests.
"""

import argparse
import dataclasses
import random
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import Client  # noqa: E402

from genlab.models.diffusion import schedulers  # noqa: E402

from timing import served  # noqa: E402

DIFFUSION_DEFAULT = dataclasses.astuple(schedulers.SamplerSettings())  # the tab's default scheduler, steps, guidance
# endpoint -> (api name, arguments for a seed); each is a typical request of that tab
ENDPOINTS = {
    "gan": ("/gan_sample", lambda seed: ("mix", 40, seed, 0, "pretrained")),
    "vae": ("/vae_sample", lambda seed: (40, seed, "pretrained")),
    "text": ("/text_generate", lambda seed: ("gpt", "pretrained", "ROMEO:", 100, 0.8, 0, 1.0, seed)),
    "diffusion": ("/diffusion_sample", lambda seed: ("mix", 10, seed, *DIFFUSION_DEFAULT, "pretrained")),
    # the largest requests public mode accepts: 6,400 network evaluations, 2,000 LSTM characters
    "diffusion_max": ("/diffusion_sample", lambda seed: ("mix", 64, seed, "ddim", 100, 1.0, "pretrained")),
    "text_max": ("/text_generate", lambda seed: ("lstm", "pretrained", "ROMEO:", 2000, 0.8, 0, 1.0, seed)),
}
BATCHING = {"on": {}, "off": {"GENLAB_MAX_BATCH": "1"}}  # the server's environment for each mode
# gradio_client makes a fresh httpx client, and with it a fresh TLS context that reads the whole CA bundle,
# for every HTTP call unless it is handed one: measured, 110 ms of CPU per request against 7 with a shared
# context, which on a 2-core machine starved the server being measured. Certificates are still verified.
TLS = ssl.create_default_context()


@dataclass
class Tally:
    latencies: Dict[str, List[float]] = field(default_factory=lambda: defaultdict(list))
    refused: int = 0  # queue full: the server said no at once, as designed
    errors: List[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def user(url: str, endpoints: List[str], deadline: float, tally: Tally, seed: int) -> None:
    client = Client(url, verbose=False, analytics_enabled=False, ssl_verify=TLS)
    rng = random.Random(seed)
    while time.time() < deadline:
        name = rng.choice(endpoints)
        api, args = ENDPOINTS[name]
        began = time.perf_counter()
        try:
            client.predict(*args(rng.randrange(10**6)), api_name=api)
        except Exception as err:  # noqa: BLE001 - every failure is counted, by kind
            with tally.lock:
                if "queue is full" in str(err).lower():
                    tally.refused += 1
                else:
                    tally.errors.append(f"{name}: {type(err).__name__}: {err}")
            continue
        with tally.lock:
            tally.latencies[name].append(time.perf_counter() - began)


def run_load(url: str, users: int, seconds: float, endpoints: List[str], beside: List[str] = ()) -> Tally:
    tally = Tally()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=user, args=(url, endpoints, deadline, tally, i)) for i in range(users)]
    threads += [threading.Thread(target=user, args=(url, [name], deadline, tally, users + i))
                for i, name in enumerate(beside)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: List[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def measure(args, batching: dict) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="genlab-load-cache-"))
    env = {"GRADIO_TEMP_DIR": str(cache), **batching}
    command = [sys.executable, "app.py"] + (["--public"] if args.public else [])
    with served(command, ROOT, env) as (url, _, process):
        run_load(url, 2, 3, args.endpoints)  # warm-up: models loaded, first requests served
        before = rss_mb(process.pid)
        tally = run_load(url, args.users, args.seconds, args.endpoints, args.beside)
        after = rss_mb(process.pid)
    return {"tally": tally, "before": before, "after": after, "files": sum(1 for p in cache.rglob("*") if p.is_file())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--endpoints", nargs="+", default=list(ENDPOINTS), choices=list(ENDPOINTS))
    parser.add_argument("--batching", nargs="+", default=["on"], choices=list(BATCHING),
                        help="GAN batching modes to run, in order (default: on, as the app ships)")
    parser.add_argument("--beside", nargs="*", default=[], choices=list(ENDPOINTS),
                        help="endpoints one extra user each sends back to back during the load")
    parser.add_argument("--public", action="store_true", help="serve in public mode (python app.py --public)")
    args = parser.parse_args()
    beside = f", beside one user each on {', '.join(args.beside)}" if args.beside else ""
    print(f"{args.users} users for {args.seconds:g} s on {', '.join(args.endpoints)}{beside}"
          f"{' (public mode)' if args.public else ''}\n")
    print("| batching | endpoint | answered | per second | p50 | p95 |")
    print("|---|---|---|---|---|---|")
    summaries = []
    for mode in args.batching:
        result = measure(args, BATCHING[mode])
        tally = result["tally"]
        for name, values in sorted(tally.latencies.items()):
            print(f"| {mode} | {name} | {len(values)} | {len(values) / args.seconds:.1f} | "
                  f"{percentile(values, 50):.2f} s | {percentile(values, 95):.2f} s |")
        answered = sum(len(v) for v in tally.latencies.values())
        summaries.append(
            f"batching {mode}: accepted and answered {answered}; refused (queue full) {tally.refused}; other errors "
            f"{len(tally.errors)}; server memory {result['before']:.0f} MB before, {result['after']:.0f} MB after "
            f"({result['after'] - result['before']:+.0f} MB over {answered} requests); files left in its cache: "
            f"{result['files']}" + "".join(f"\n   {error}" for error in tally.errors[:5]))
    print()
    print("\n".join(summaries))


if __name__ == "__main__":
    main()
