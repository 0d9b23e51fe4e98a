"""Text generation speed: characters per second through genlab.generation.generate (the path the
CLI and the text tab use), with the key/value cache and without it (use_cache=False), in one run;
and the decoding step alone (model.advance, no sampling) beside its weight products alone (one
matrix product per weight matrix of the model, the same shapes): the floor a step's time can
approach, so step / products says how much of a step is overhead.

Usage: python benchmarks/text_speed.py [--family gpt lstm] [--repeats 3] [--n-chars 500] [--threads N]
                                       [--clock wall|cpu] [--weights FOLDER | --untrained]
Each figure is the median of --repeats rounds that interleave every family and both paths, so
drift on a busy machine hits all alike. The LSTM has no cache to drop (its recurrent state is its
memory), so its two rows measure the same work. --untrained builds models from the config
defaults (the shipped sizes) when no weights are shipped yet; the speed does not depend on training.
generate runs each one-character step on one thread (genlab.devices.single_threaded), so the steps and the
products alone run on one thread here too; --threads sets the rest (the prompt, the no-cache windows).
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
from genlab.devices import single_threaded  # noqa: E402
from genlab.models.text import generation  # noqa: E402
from genlab.registry import FAMILIES, TEXT_FAMILIES  # noqa: E402

# issue 21: chars/s with the cache (on a quiet machine), cache / no-cache, and step / weight products
TARGETS = {"gpt": (1000.0, 5.0, 0.8), "lstm": (1144.0, None, None)}  # lstm: what bfloat16 ran
PROMPT = "ROMEO:"
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = time.perf_counter  # set from --clock


def load(name: str, folder, untrained: bool):
    family = FAMILIES[name]
    if untrained:
        torch.manual_seed(0)
        return weights.build(family).eval(), "untrained, config defaults"
    model = weights.load(family, folder)
    return model, str(folder) if folder else "shipped"


def seconds(model, request, use_cache: bool) -> float:
    began = CLOCK()
    for _ in generation.generate(model, request, use_cache=use_cache):
        pass
    return CLOCK() - began


def weight_matrices(model):
    """(weight (out, in), bias or None) of every product with a weight matrix a decoding step makes:
    each 2-D parameter but the embedding table (a lookup)."""
    params = dict(model.named_parameters())
    matrices = []
    for name, weight in params.items():
        if weight.dim() == 2 and not name.startswith("embed"):
            bias = params.get(name.replace("weight", "bias"))
            matrices.append((weight.detach(), None if bias is None else bias.detach()))
    return matrices


def products_seconds(matrices, n: int) -> float:
    """n characters' worth of the weight products alone."""
    inputs = [torch.zeros(1, w.shape[1], dtype=w.dtype) for w, _ in matrices]
    began = CLOCK()
    with torch.inference_mode(), single_threaded():  # as the steps run
        for _ in range(n):
            for (weight, bias), x in zip(matrices, inputs):
                torch.nn.functional.linear(x, weight, bias)
    return CLOCK() - began


def step_seconds(model, prompt_ids, tokens) -> float:
    """The decoding steps alone: model.advance for each of `tokens`, no sampling, on one thread as generate runs them."""
    with torch.inference_mode(), single_threaded():
        _, state = model.begin(prompt_ids)
        began = CLOCK()
        for token in tokens:
            _, state = model.advance(state, token)
    return CLOCK() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", nargs="+", choices=TEXT_FAMILIES, default=TEXT_FAMILIES)
    parser.add_argument("--weights", help="weights folder to load instead of the shipped one (one --family)")
    parser.add_argument("--untrained", action="store_true", help="a fresh model of the default config")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--n-chars", type=int, default=500)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice, as the app runs)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall: what a user waits; cpu: this process's CPU time, steadier on a shared "
                             "machine (with --threads 1, where no thread spins waiting for another)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = CLOCKS[args.clock]
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
    tokens = {name: model.vocab.encode(generation.generate_text(model, requests[name])).tolist()
              for name, (model, _) in models.items()}  # the steps replay the benchmark's own text
    prompts = {name: generation.check_prompt(model.vocab, requests[name].prompt)[None]
               for name, (model, _) in models.items()}
    matrices = {name: weight_matrices(model) for name, (model, _) in models.items()}
    times = {(name, c): [] for name in models for c in (True, False, "step", "products")}
    for _ in range(args.repeats):
        for name, (model, _) in models.items():
            for use_cache in (True, False):
                times[name, use_cache].append(seconds(model, requests[name], use_cache))
            times[name, "step"].append(step_seconds(model, prompts[name], tokens[name]))
            times[name, "products"].append(products_seconds(matrices[name], args.n_chars))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.n_chars} new characters after "
          f"{PROMPT!r}, temperature 0.8, medians of {args.repeats} interleaved rounds, {args.clock} clock")
    print("| family | weights | with cache | target | without cache | cache / no-cache | target "
          "| decode step alone | weight products alone | step / products | target |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, (model, source) in models.items():
        cached, uncached, step, products = (args.n_chars / statistics.median(times[name, c])
                                            for c in (True, False, "step", "products"))
        speed, factor, share = TARGETS.get(name, (None, None, None))
        print(f"| {name} | {source} | {cached:.0f} chars/s | {target(cached, speed, ' chars/s')} "
              f"| {uncached:.0f} chars/s | {cached / uncached:.2f}x | {target(cached / uncached, factor, 'x')} "
              f"| {step:.0f} chars/s | {products:.0f} chars/s ({len(matrices[name])} products) "
              f"| {step / products:.2f}x | {target(step / products, share, 'x')} |")
    print("targets: issue 21 (chars/s on a quiet machine); 'met' compares this run's medians")
    for name in models:  # a product per weight matrix reads the whole matrix once for one row of input
        megabytes = sum(w.numel() * w.element_size() + (0 if b is None else b.numel() * b.element_size())
                        for w, b in matrices[name]) / 1e6
        step, products = (statistics.median(times[name, c]) / args.n_chars for c in ("step", "products"))
        print(f"{name}: the products read {megabytes:.2f} MB of weights a character, {megabytes / 1e3 / products:.1f} "
              f"GB/s; the rest of a step takes {1e6 * (step - products):.0f} us a character")
    for name, (a, b) in texts.items():
        print(f"{name}: cache and no-cache paths give the same 20 characters: {'yes' if a == b else 'NO'}")


def target(value: float, goal, unit: str) -> str:
    if goal is None:
        return ""
    return f">= {goal:g}{unit}: {'met' if value >= goal else 'not met'}"


if __name__ == "__main__":
    main()
