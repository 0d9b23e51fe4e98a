"""`python -m genlab export diffusion --format diffusers --out DIR`: a model in another library's format.

Families plug in through EXPORTS, keyed by family and format. The folder is written beside --out
and swapped in only when complete (weights.atomic_folder); an existing --out must be empty, or hold an earlier export
(only the files an export writes) that --force replaces. Anything else is refused, so no export deletes a folder
of other files.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict

from torch import nn

from genlab import weights
from genlab.registry import get_family


def write_diffusers(model: nn.Module, folder: Path) -> None:
    from genlab.models.diffusion import diffusers_folder  # imports diffusers (about 2 s): only when exporting
    diffusers_folder.write(model, folder)


@dataclass(frozen=True)
class ExportFormat:
    what: str  # for --help and messages
    write: Callable[[nn.Module, Path], None]  # fills an existing empty folder
    contents: frozenset  # the top-level names an export writes: --force replaces a folder holding these alone
    usage: str  # how to load it, printed after the export; {out} is the folder


EXPORTS: Dict[str, Dict[str, ExportFormat]] = {  # family -> format -> how
    "diffusion": {
        "diffusers": ExportFormat(
            "a diffusers pipeline folder: unet/ (the averaged weights), scheduler/ (sde-dpm++), "
            "model_index.json and pipeline.py (standalone: torch and diffusers only)",
            write_diffusers, frozenset({"model_index.json", "pipeline.py", "unet", "scheduler"}),
            "DiffusionPipeline.from_pretrained({out!r}, trust_remote_code=True)(class_labels=[7] * 8).images"),
    },
}


def export_format(family_name: str, name: str) -> ExportFormat:
    formats = EXPORTS[get_family(family_name).name]
    if name not in formats:
        raise ValueError(f"--format {name!r}: {family_name} exports as "
                         + "; ".join(f"{key} ({f.what})" for key, f in formats.items()))
    return formats[name]


def check_out(out_flag: str, chosen: ExportFormat, force: bool) -> Path:
    """--out as an absolute Path: a new folder, an empty one, or (with --force) an earlier export of this format."""
    out = Path(out_flag).resolve()  # "." has no name to make a temp folder beside
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder (new or empty)")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ValueError(f"--out {out} exists and is not empty; give a new or empty folder, "
                             "or add --force to replace an earlier export there")
        others = sorted({p.name for p in out.iterdir()} - chosen.contents)
        if others:
            raise ValueError(f"--out {out} holds files no export writes ({', '.join(others[:5])}): "
                             "refusing to replace it even with --force; give a new or empty folder")
    return out


def cmd_export(args: argparse.Namespace) -> int:
    chosen = export_format(args.family, args.format)
    out = check_out(args.out, chosen, args.force)
    family = get_family(args.family)
    source = Path(args.run) if args.run else weights.shipped(family)
    model = weights.load(family, source)
    try:
        with weights.atomic_folder(out, "export") as tmp:  # swapped in only when complete
            chosen.write(model, tmp)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    print(f"wrote {out} ({args.format} export of {source}); load it with\n  "
          + chosen.usage.format(out=str(out)), file=sys.stderr)
    return 0


def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="write a model in another library's format (diffusion: a diffusers pipeline)")
    p.add_argument("family", choices=list(EXPORTS), help="the family to export")
    p.add_argument("--format", default="diffusers", help="what to write (default diffusers): " + "; ".join(
        f"{family}: {name}, {f.what}" for family, formats in EXPORTS.items() for name, f in formats.items()))
    p.add_argument("--out", required=True, help="folder to write: new, empty, or an earlier export with --force")
    p.add_argument("--run", help="weights folder to export: a run's --out or checkpoint folder "
                                 "(default: the shipped weights/<family>)")
    p.add_argument("--force", action="store_true", help="replace an earlier export in --out")
    p.set_defaults(func=cmd_export)
