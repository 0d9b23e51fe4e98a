"""`python -m genlab sample <family>`: one subcommand for every family that makes something.

Families plug in by their `output`: SAMPLERS maps each kind of output to its command and its own
flags. Image families write a grid (.png), raw samples (.npy) or uint8 digits (.npz), up to
MAX_CLI_SAMPLES of them (enough for FID), drawn in batches; text families stream the prompt, then
each new character as it is generated, to stdout. Every value is checked before model work.
"""

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import numpy as np
import torch
from tqdm import tqdm

from genlab import devices, images, params, weights
from genlab.models import base, sampling
from genlab.models.base import Family
from genlab.models.text import generation
from genlab.registry import FAMILIES, get_family
from genlab.train import hub

MAX_CLI_SAMPLES = 100_000  # the CLI's bound on --n; the web form keeps sampling.MAX_SAMPLES
BATCH = 250  # digits per model call, so memory stays bounded; a multiple of 10 keeps a mix in 0..9 order
GRID_MAX = sampling.MAX_SAMPLES  # a .png grid shows at most this many digits
OUTPUTS = {".png": "a grid", ".npy": "raw samples", ".npz": "uint8 digits and labels, plus a grid"}


def digit_request(args: argparse.Namespace) -> sampling.DigitRequest:
    """The web form's checks, with the CLI's own bound on --n."""
    return sampling.DigitRequest(sampling.parse_digit(args.digit),
                                 params.check_value("--n", args.n, int, 1, MAX_CLI_SAMPLES),
                                 params.check_seed(args.seed),
                                 sampling.parse_truncation(args.truncation))


def batch_seed(seed: int, index: int) -> int:
    """Batch 0 draws with `seed` itself, so up to BATCH digits match the web form's for that seed;
    batch i > 0 with a seed derived from (seed, i): same seed, same digits on every run."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0]) & params.MAX_SEED


def sample_in_batches(model, request: sampling.DigitRequest, settings,
                      batch: int) -> Iterator[Tuple[int, torch.Tensor]]:
    """(start, (k, 1, 28, 28) in [-1, 1]) for consecutive batches of at most `batch` of the request's digits."""
    extra = {} if settings is None else {"settings": settings}
    sampling.check_class(model, request.digit)
    for start in range(0, request.n, batch):
        index = torch.arange(start, min(start + batch, request.n))
        labels = index % sampling.classes_of(model) if request.digit is None else torch.full_like(index, request.digit)
        generator = torch.Generator().manual_seed(batch_seed(request.seed, start // batch))
        with base.evaluating(model):  # left before the yield: no torch mode spans a yield
            samples = model.sample(len(index), generator=generator, labels=labels,
                                   truncation=request.truncation, **extra).cpu()
        yield start, samples


def labels_asked(family: Family, request: sampling.DigitRequest, classes: int = 10) -> np.ndarray:
    """(N,) int64: the class each sample was asked to be; -1 where the family ignores labels."""
    if not family.conditional:
        return np.full(request.n, -1, dtype=np.int64)
    if request.digit is None:
        return np.arange(request.n, dtype=np.int64) % classes
    return np.full(request.n, request.digit, dtype=np.int64)


def _partial(out: Path) -> Path:
    """Where `out` is written until it is complete (same suffix: numpy and PIL pick the format by it)."""
    return out.with_name(f".{out.name}.partial{out.suffix}")


def check_out(family: Family, request: sampling.DigitRequest, out_flag) -> Path:
    if not out_flag:
        raise ValueError(f"{family.name} makes images: give --out grid.png (a grid), --out x.npy (raw samples) "
                         "or --out x.npz (uint8 digits)")
    out = Path(out_flag)
    if out.suffix.lower() not in OUTPUTS:
        raise ValueError("--out must end in " + ", ".join(f"{k} ({v})" for k, v in OUTPUTS.items())
                         + f", got {out.name!r}")
    if out.suffix.lower() == ".png" and request.n > GRID_MAX:
        raise ValueError(f"a .png grid shows at most {GRID_MAX} digits; for {request.n} write --out x.npz "
                         "(uint8 digits, with a grid of the first ones) or --out x.npy")
    if not out.parent.is_dir():
        raise ValueError(f"--out: folder {out.parent} does not exist")
    return out


def sample_images(family: Family, args: argparse.Namespace) -> int:
    """Write --n digits (up to MAX_CLI_SAMPLES) to --out, drawn BATCH at a time with a progress bar on stderr.

    .png: a grid (at most GRID_MAX digits); .npy: (N, 28, 28) float32 in [0, 1]; .npz: `images`
    (N, 28, 28) uint8, white ink on black like MNIST, and `labels` (N,) the digits asked for (-1 for
    an unconditional family), plus <name>-grid.png of the first GRID_MAX. Files appear only when complete."""
    request = digit_request(args)
    out = check_out(family, request, args.out)
    kind, shape = out.suffix.lower(), (request.n, 28, 28)
    grid_out = out.with_name(f"{out.stem}-grid.png") if kind == ".npz" else out
    settings = sampler_settings(family, args)
    model = chosen_model(family, args)
    partials = [_partial(out), _partial(grid_out)]
    try:
        raw = (np.lib.format.open_memmap(partials[0], mode="w+", dtype=np.float32, shape=shape)  # filled batch by batch
               if kind == ".npy" else None)
        digits = np.empty(shape, dtype=np.uint8) if kind == ".npz" else None  # N * 784 bytes
        first = []  # the grid's digits, (k, 1, 28, 28) tensors
        with tqdm(total=request.n, unit="digit", file=sys.stderr, disable=not sys.stderr.isatty(),
                  dynamic_ncols=True) as bar:
            for start, samples in sample_in_batches(model, request, settings, BATCH):
                if raw is not None:
                    raw[start:start + len(samples)] = images.to_unit(samples)
                if digits is not None:
                    digits[start:start + len(samples)] = images.to_uint8(samples)
                if start < GRID_MAX:
                    first.append(samples[:GRID_MAX - start])
                bar.update(len(samples))
        if raw is not None:
            raw.flush()
            del raw
        if digits is not None:
            np.savez_compressed(partials[0], images=digits, labels=labels_asked(family, request, sampling.classes_of(model)))
        if kind != ".npy":
            shown = dataclasses.replace(request, n=min(request.n, GRID_MAX))
            images.grid_image(torch.cat(first), scale=args.scale, columns=sampling.columns_for(shown)).save(partials[1])
        for partial, final in {partials[0]: out, partials[1]: grid_out}.items():
            if partial.exists():
                os.replace(partial, final)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    also = f" and {grid_out} (a grid of the first {min(request.n, GRID_MAX)})" if grid_out != out else ""
    print(f"wrote {out} ({request.n} samples){also}", file=sys.stderr)
    return 0


def chosen_model(family: Family, args: argparse.Namespace):
    """The shipped weights of `family`, or with --model the `family` model of that Hub repo (fetched once,
    then read from the Hub cache; another family's repo is refused before its weights download)."""
    device = devices.resolve(args.device)
    if args.model is not None:
        return hub.load_from_hub(family, args.model, device)
    return weights.load(family, device=device)


def sampler_flags() -> Dict[str, List[str]]:
    """Each family-specific sampler flag (from the Family.sampler_cls dataclasses) -> the families taking it."""
    flags: Dict[str, List[str]] = {}
    for name, f in FAMILIES.items():
        for field in params.tunable(f.sampler_cls) if f.sampler_cls else ():
            flags.setdefault(field.name, []).append(name)
    return flags


def sampler_settings(family: Family, args: argparse.Namespace):
    """The family's checked sampler settings from its flags (None for families without); flags meant
    for other families are refused."""
    for flag, owners in sampler_flags().items():
        if getattr(args, flag) is not None and family.name not in owners:
            raise ValueError(f"--{flag} is for {', '.join(owners)}; {family.name} has no such setting")
    if family.sampler_cls is None:
        return None
    return family.sampler_cls.checked(**{f.name: getattr(args, f.name) for f in params.tunable(family.sampler_cls)})


def sample_text(family: Family, args: argparse.Namespace) -> int:
    """Stream the prompt, then each new character as it comes (flushed), to stdout; --out also saves it."""
    request = generation.text_request(args.prompt, args.n_chars, args.temperature, args.top_k, args.top_p, args.seed)
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise ValueError(f"--out: folder {out.parent} does not exist")
    model = chosen_model(family, args)
    generation.check_prompt(model.vocab, request.prompt)  # unknown characters: an error before any output
    chars = [request.prompt]
    sys.stdout.write(request.prompt)
    sys.stdout.flush()
    try:
        for token in generation.generate(model, request):
            chars.append(token.char)
            sys.stdout.write(token.char)
            sys.stdout.flush()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if sys.stdout.isatty():
        sys.stdout.write("\n")  # the shell prompt on its own line; pipes and files get the text exactly
    if out is not None:
        out.write_text("".join(chars), encoding="utf-8")
        print(f"wrote {out} ({len(request.prompt)} prompt + {request.n_chars} new characters)", file=sys.stderr)
    return 0


@dataclasses.dataclass(frozen=True)
class SampleCommand:
    """How `sample` serves one kind of family output: the command and its own flags (dest: default)."""

    run: Callable[[Family, argparse.Namespace], int]
    options: Dict[str, object]


SAMPLERS = {  # keyed by Family.output; a family whose output is not here ("label": a classifier) has no `sample`
    "image": SampleCommand(sample_images, {"digit": "mix", "n": 64, "truncation": None, "scale": 4}),
    "text": SampleCommand(sample_text, {"prompt": "", "n_chars": 500, "temperature": 0.8, "top_k": 0, "top_p": 1.0}),
}


def families_making(output: str) -> List[str]:
    return [name for name, f in FAMILIES.items() if f.output == output]


def cmd_sample(args: argparse.Namespace) -> int:
    """Refuse flags meant for another kind of output, fill in this kind's defaults, and run its sampler."""
    family = get_family(args.family)
    for output, sampler in SAMPLERS.items():
        for name, default in sampler.options.items():
            value = getattr(args, name)
            if output != family.output and value is not None:
                raise ValueError(f"--{name.replace('_', '-')} is for {output} families "
                                 f"({', '.join(families_making(output))}); {family.name} makes {family.output}")
            if output == family.output and value is None:
                setattr(args, name, default)
    return SAMPLERS[family.output].run(family, args)


def add_sample_parser(sub) -> None:
    """The `sample` subcommand; family-specific flags stay None when unset, and cmd_sample fills in defaults."""
    p = sub.add_parser("sample", help="sample digits, or stream text, from shipped weights")
    p.add_argument("family", choices=[name for output in SAMPLERS for name in families_making(output)])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", metavar="USER/NAME", help="sample from this model on the Hugging Face Hub "
                                                        "(shared with `python -m genlab push`) instead of the "
                                                        "shipped weights; cached after the first download")
    p.add_argument("--out", help=f"images (required): a grid .png (at most {GRID_MAX} digits); raw .npy, "
                                 "(N, 28, 28) float32 in [0, 1]; or .npz: 'images' (N, 28, 28) uint8 white on "
                                 "black, 'labels' (N,) the digits asked for (-1: unconditional), plus "
                                 f"<name>-grid.png of the first {GRID_MAX}. "
                                 "Text: also write prompt + text to this file")
    image, text = SAMPLERS["image"].options, SAMPLERS["text"].options
    g = p.add_argument_group(f"image families ({', '.join(families_making('image'))})")
    g.add_argument("--digit", help=f"0-9, or 'mix' for all ten (default {image['digit']})")
    g.add_argument("--n", type=int, help=f"number of digits, at most {MAX_CLI_SAMPLES:,}, drawn {BATCH} at a time "
                                         f"(default {image['n']}); the same --seed gives the same digits")
    g.add_argument("--truncation", type=float, help="truncate the latent noise to [-t, t] (default: none)")
    g.add_argument("--scale", type=int, choices=range(1, 17), metavar="1..16",
                   help=f"pixel upscaling of the PNG grid (default {image['scale']})")
    seen = set()
    for f in FAMILIES.values():
        fields = [field for field in params.tunable(f.sampler_cls) if field.name not in seen] if f.sampler_cls else []
        g = p.add_argument_group(f"{f.name} sampling") if fields else None
        for field in fields:
            seen.add(field.name)
            spec = params.spec(field)
            g.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), choices=spec["choices"],
                           help=f"{spec['help']} (default {field.default!r})".replace("%", "%%"))
    g = p.add_argument_group(f"text families ({', '.join(families_making('text'))}; streamed to stdout, "
                             "the prompt first)")
    g.add_argument("--prompt", help="text to continue; every character must be in the model's vocabulary "
                                    "(default: start from a newline)")
    g.add_argument("--n-chars", type=int, help=f"new characters (default {text['n_chars']}, "
                                               f"at most {generation.MAX_NEW_CHARS})")
    g.add_argument("--temperature", type=float, help=f"0: greedy (default {text['temperature']})")
    g.add_argument("--top-k", type=int, help=f"keep the k most likely characters, 0: all (default {text['top_k']})")
    g.add_argument("--top-p", type=float, help=f"nucleus: keep the smallest set reaching p (default {text['top_p']})")
    p.set_defaults(func=cmd_sample)
