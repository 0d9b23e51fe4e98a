"""`python -m genlab sample <family>`: one subcommand for every family that makes something.

Families plug in by their `output`: SAMPLERS maps each kind of output to its command and its own
flags. Image families write a grid (.png) or raw samples (.npy); text families stream the prompt,
then each new character as it is generated, to stdout. Every value is checked before model work.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

from genlab import devices, generation, images, params, sampling, weights
from genlab.models import FAMILIES, Family, get_family


def sample_images(family: Family, args: argparse.Namespace) -> int:
    if not args.out:
        raise ValueError(f"{family.name} makes images: give --out grid.png (a grid) or --out x.npy (raw samples)")
    request = sampling.digit_request(args.digit, args.n, args.seed, args.truncation)
    out = Path(args.out)
    if out.suffix.lower() not in (".npy", ".png"):
        raise ValueError(f"--out must end in .png (a grid) or .npy (raw samples), got {out.name!r}")
    settings = sampler_settings(family, args)
    model = weights.load(family, device=devices.resolve(args.device))
    samples = sampling.sample_digits(model, request, settings)
    if out.suffix.lower() == ".npy":
        np.save(out, images.to_unit(samples), allow_pickle=False)
    else:
        images.grid_image(samples, scale=args.scale, columns=sampling.columns_for(request)).save(out)
    print(f"wrote {out} ({request.n} samples)", file=sys.stderr)
    return 0


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
    model = weights.load(family, device=devices.resolve(args.device))
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


@dataclass(frozen=True)
class Sampler:
    """How `sample` serves one kind of family output: the command and its own flags (dest: default)."""

    run: Callable[[Family, argparse.Namespace], int]
    options: Dict[str, object]


SAMPLERS = {  # keyed by Family.output; a family whose output is not here ("label": a classifier) has no `sample`
    "image": Sampler(sample_images, {"digit": "mix", "n": 64, "truncation": None, "scale": 4}),
    "text": Sampler(sample_text, {"prompt": "", "n_chars": 500, "temperature": 0.8, "top_k": 0, "top_p": 1.0}),
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
    p.add_argument("--out", help="images (required): grid .png or raw .npy, (N, 28, 28) in [0, 1]; "
                                 "text: also write prompt + text to this file")
    image, text = SAMPLERS["image"].options, SAMPLERS["text"].options
    g = p.add_argument_group(f"image families ({', '.join(families_making('image'))})")
    g.add_argument("--digit", help=f"0-9, or 'mix' for all ten (default {image['digit']})")
    g.add_argument("--n", type=int, help=f"number of digits (default {image['n']})")
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
