"""Text generation speed: characters per second through genlab.generation.generate (the path the
CLI and the text tab use), with the key/value cache and without it (use_cache=False), in one run.

Usage: python benchmarks/text_speed.py [--family gpt lstm] [--repeats 3] [--n-chars 500] [--threads N]
                                       [--weights FOLDER | --untrained]
Each figure is the median of --repeats rounds that interleave every family and both paths, so
drift on a busy machine hits all alike. The LSTM has no cache to drop (its recurrent state is its
memory), so its two rows measure the same work. --untrained builds models from the config
defaults (the shipped sizes) when no weights are shipped yet; the speed does not depend on training.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab import weights  # noqa: E402
from genlab.models.text import generation  # noqa: E402
from genlab.registry import FAMILIES, TEXT_FAMILIES  # noqa: E402

TARGETS = {"gpt": (500.0, 3.0)}  # chars/s with the cache, and cache / no-cache
PROMPT = "ROMEO:"


def load(name: str, folder, untrained: bool):
    family = FAMILIES[name]
    if untrained:
        torch.manual_seed(0)
        return weights.build(family).eval(), "untrained, config defaults"
    model = weights.load(family, folder)
    return model, str(folder) if folder else "shipped"


def seconds(model, request, use_cache: bool) -> float:
    began = time.perf_counter()
    for _ in generation.generate(model, request, use_cache=use_cache):
        pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", nargs="+", choices=TEXT_FAMILIES, default=TEXT_FAMILIES)
    parser.add_argument("--weights", help="weights folder to load instead of the shipped one (one --family)")
    parser.add_argument("--untrained", action="store_true", help="a fresh model of the default config")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--n-chars", type=int, default=500)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice, as the app runs)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.weights and (args.untrained or len(args.family) != 1):
        parser.error("--weights takes exactly one --family and no --untrained")
    try:
        models = {name: load(name, args.weights, args.untrained) for name in args.family}
    except weights.WeightsError as err:
        sys.exit(f"error: {err} (or run with --untrained)")

    requests = {name: generation.text_request(PROMPT if not model.vocab.unknown(PROMPT) else "", args.n_chars,
                                              0.8, 0, 1.0, seed=0) for name, (model, _) in models.items()}
    texts = {}
    for name, (model, _) in models.items():  # warm-up, and the two paths must agree on the text
        short = generation.text_request(requests[name].prompt, 20, 0.8, seed=0)
        texts[name] = [generation.generate_text(model, short, use_cache=c) for c in (True, False)]
    times = {(name, c): [] for name in models for c in (True, False)}
    for _ in range(args.repeats):
        for name, (model, _) in models.items():
            for use_cache in (True, False):
                times[name, use_cache].append(seconds(model, requests[name], use_cache))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.n_chars} new characters after "
          f"{PROMPT!r}, temperature 0.8, medians of {args.repeats} interleaved rounds")
    print("| family | weights | with cache | without cache | cache / no-cache | target | met |")
    print("|---|---|---|---|---|---|---|")
    for name, (model, source) in models.items():
        cached, uncached = (args.n_chars / statistics.median(times[name, c]) for c in (True, False))
        ratio = cached / uncached
        target, met = "", ""
        if name in TARGETS:
            speed, factor = TARGETS[name]
            target = f">= {speed:.0f} chars/s and >= {factor:g}x"
            met = "yes" if cached >= speed and ratio >= factor else "no"
        print(f"| {name} | {source} | {cached:.0f} chars/s | {uncached:.0f} chars/s | {ratio:.2f}x | {target} "
              f"| {met} |")
    for name, (a, b) in texts.items():
        print(f"{name}: cache and no-cache paths give the same 20 characters: {'yes' if a == b else 'NO'}")


if __name__ == "__main__":
    main()
