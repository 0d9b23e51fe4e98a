"""`python -m genlab deploy`: upload this checkout to a Hugging Face Space, checked first.

Settings come from spaces.yaml: `space:` is README.md's front matter, `deploy:` holds the default
repo id, hardware and the ignore list. The bundle is built locally and checked (weights load,
sizes, no tests or caches, front matter and gradio pin agree) before any network call, so a
broken Space is refused here rather than discovered in its build log.
"""

import argparse
import glob
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import huggingface_hub
import pathspec
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HFValidationError

from genlab import REPO, weights
from genlab.registry import FAMILIES
from genlab.train import hub

MAX_FILE_BYTES = 10_000_000  # larger files need LFS/Xet handling on the Hub; the project keeps weights small
REQUIRED = ("judge", "gan", "vae")  # the GAN and VAE tabs cannot start without these; other tabs degrade
FREE_HARDWARE = "cpu-basic"
# excluded whatever spaces.yaml says: the Space must never receive tests, caches, local runs, or
# `weights/.<name>-*` folders that weights.atomic_folder leaves while a save is in progress
ALWAYS_EXCLUDED = [".git/", ".venv/", "venv/", "tests/", "runs/", "__pycache__/", "*.pyc", ".pytest_cache/",
                   ".gradio/", ".mypy_cache/", ".ruff_cache/", "weights/.*"]
CACHE_NAMES = {"tests", "__pycache__", ".pytest_cache", ".gradio", ".mypy_cache", ".ruff_cache", "runs"}
NO_TOKEN = "no Hugging Face token: run `huggingface-cli login` or set HF_TOKEN (or pass --token)"


def settings(root: Path) -> dict:
    path = Path(root) / "spaces.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from err
    if not isinstance(data, dict) or not isinstance(data.get("space"), dict):
        raise ValueError(f"{path}: needs a `space:` section (README.md's front matter)")
    return data


def ignore_spec(patterns: List[str]) -> pathspec.GitIgnoreSpec:
    """The patterns with git's own rules (pathspec's implementation of .gitignore matching)."""
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def excluded(spec: pathspec.GitIgnoreSpec, rel: str, is_dir: bool) -> bool:
    return spec.match_file(rel + "/" if is_dir else rel)


def exclusions(root: Path, config: dict) -> List[str]:
    """spaces.yaml's ignore list, then .gitignore, then the always-excluded list, last so that no
    negation (`!pattern`) in the others brings tests or caches back."""
    patterns = [str(p) for p in (config.get("deploy") or {}).get("ignore") or []]
    gitignore = Path(root) / ".gitignore"
    if gitignore.is_file():
        lines = (line.strip() for line in gitignore.read_text(encoding="utf-8").splitlines())
        patterns += [line for line in lines if line and not line.startswith("#")]
    return list(dict.fromkeys(patterns + ALWAYS_EXCLUDED))


def bundle(root: Path, ignore: Optional[List[str]] = None) -> List[Tuple[str, int]]:
    """(relative path, size in bytes) of every file the Space would receive, sorted by path."""
    root = Path(root)
    spec = ignore_spec(exclusions(root, settings(root)) if ignore is None else ignore)
    found = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = sorted(d for d in dirs if not excluded(spec, prefix + d, True))
        for name in files:
            rel, path = prefix + name, Path(folder) / name
            if path.is_file() and not excluded(spec, rel, False):
                found.append((rel, path.stat().st_size))
    return sorted(found)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def front_matter(root: Path) -> Optional[dict]:
    """README.md's YAML front matter (what Spaces read), None when it has none."""
    match = re.match(r"---\n(.*?)\n---\n", (Path(root) / "README.md").read_text(encoding="utf-8"), re.S)
    return yaml.safe_load(match.group(1)) if match else None


def gradio_pins(root: Path) -> List[str]:
    """The versions in requirements.txt's `gradio==...` lines, extras allowed (`gradio[mcp]==...`);
    exactly one is right."""
    text = (Path(root) / "requirements.txt").read_text(encoding="utf-8")
    return re.findall(r"^gradio(?:\[[\w,-]+\])?==(\S+?)(?:\s+#.*)?$", text, re.M)


def check_weights(root: Path, paths: set) -> Check:
    loaded, untrained, problems = [], [], []
    for name, family in FAMILIES.items():
        folder = root / "weights" / name
        if not folder.is_dir():
            if name in REQUIRED:
                problems.append(f"{name}: missing")
            else:
                untrained.append(name)
            continue
        try:
            weights.load(family, folder)  # strict keys, finite tensors, no pickle: what the Space will do
        except weights.WeightsError as err:
            problems.append(f"{name}: {err}")
            continue
        left_out = [f for f in (weights.CONFIG, weights.TENSORS) if f"weights/{name}/{f}" not in paths]
        if left_out:  # loads here, but the ignore list would keep it from the Space
            problems.append(f"{name}: {', '.join(left_out)} not in the bundle")
        else:
            loaded.append(name)
    detail = "; ".join(problems) if problems else f"{', '.join(loaded)} load (strict, finite)"
    if untrained:
        detail += f"; {', '.join(untrained)}: not trained (tab will say so)"
    return Check("weights", not problems, detail)


def run_checks(root: Path, files: List[Tuple[str, int]], config: dict) -> List[Check]:
    root, paths, space = Path(root), {p for p, _ in files}, config["space"]
    big = [f"{p} ({human(n)})" for p, n in files if n >= MAX_FILE_BYTES]
    caches = [p for p in paths if p.endswith(".pyc") or CACHE_NAMES & set(p.split("/")[:-1])]
    readme = front_matter(root) if "README.md" in paths else None
    pins = gradio_pins(root) if "requirements.txt" in paths else []
    app_file = str(space.get("app_file", "app.py"))
    return [
        check_weights(root, paths),
        Check("file sizes", not big, f"over {human(MAX_FILE_BYTES)}: {', '.join(big)}" if big else
              f"every file under {human(MAX_FILE_BYTES)}"),
        Check("no tests or caches", not caches, ", ".join(sorted(caches)[:5]) or "none included"),
        Check("README front matter", readme == space, "equals spaces.yaml `space:`" if readme == space else
              "README.md's front matter differs from spaces.yaml `space:` (or is missing)"),
        Check("gradio pin", pins == [str(space.get("sdk_version"))],
              f"requirements.txt has gradio=={', '.join(pins) or '(none)'}; sdk_version is {space.get('sdk_version')}"),
        Check("app file", app_file in paths, f"{app_file} {'included' if app_file in paths else 'missing'}"),
    ]


def human(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1e3:.1f} kB" if n < 1e6 else f"{n / 1e6:.1f} MB"


def report(files: List[Tuple[str, int]], results: List[Check]) -> None:
    width = max([len(p) for p, _ in files] + [4])
    print(f"{'path':<{width}}  {'size':>9}")
    for path, size in files:
        print(f"{path:<{width}}  {human(size):>9}")
    print(f"total: {len(files)} files, {human(sum(n for _, n in files))}")
    print("checks:")
    for c in results:
        print(f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")


def find_token(given: Optional[str]) -> Optional[str]:
    return given or os.environ.get("HF_TOKEN") or huggingface_hub.get_token()


def network_errors() -> tuple:
    """What a failed upload raises: the Hub's and its HTTP client's errors (genlab.train.hub), and a bad id."""
    return hub.hub_errors() + (HFValidationError,)


def upload(root: Path, repo_id: str, hardware: str, token: str, files: List[Tuple[str, int]],
           ignore: List[str]) -> str:
    api = HfApi(token=token)
    print(f"creating or updating space {repo_id}", file=sys.stderr)
    url = api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
    print(f"uploading {len(files)} files", file=sys.stderr)
    # allow_patterns (the exact, checked bundle) decides; ignore_patterns is a second guard
    api.upload_folder(folder_path=str(root), repo_id=repo_id, repo_type="space", ignore_patterns=ignore,
                      allow_patterns=[glob.escape(p) for p, _ in files],
                      commit_message="Deploy with `python -m genlab deploy`")
    if hardware != FREE_HARDWARE:
        api.request_space_hardware(repo_id, hardware)
    return str(url)


def cmd_deploy(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else REPO
    config = settings(root)
    options = config.get("deploy") or {}
    repo_id = args.repo or options.get("repo_id")
    if not repo_id:
        raise ValueError("no --repo given and no deploy.repo_id in spaces.yaml")
    hardware = args.hardware or options.get("hardware") or FREE_HARDWARE
    ignore = exclusions(root, config)
    files = bundle(root, ignore)
    results = run_checks(root, files, config)
    report(files, results)
    failed = [c.name for c in results if not c.ok]
    if failed:
        print(f"error: check failed: {', '.join(failed)}; nothing uploaded", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"dry run: would upload to space {repo_id} ({hardware}); nothing sent")
        return 0
    token = hub.checked_token(find_token(args.token))
    if not token:
        print(f"error: {NO_TOKEN}", file=sys.stderr)
        return 2
    try:
        url = upload(root, repo_id, hardware, token, files, ignore)
    except network_errors() as err:  # hub errors span lines: keep one, and never the token
        print(f"error: deploy to {repo_id} failed: {hub.without(token, hub.one_line(err))}", file=sys.stderr)
        return 2
    print(f"deployed {len(files)} files to {url} ({hardware})")
    return 0


def add_deploy_parser(sub) -> None:
    p = sub.add_parser("deploy", help="check this checkout and upload it to a Hugging Face Space")
    p.add_argument("--repo", help="USER/SPACE (default: deploy.repo_id in spaces.yaml)")
    p.add_argument("--hardware", help=f"Space hardware, e.g. {FREE_HARDWARE}, zero-a10g, t4-small "
                                      "(default: deploy.hardware in spaces.yaml)")
    p.add_argument("--dry-run", action="store_true", help="list the files and run the checks; no network")
    p.add_argument("--token", help="Hugging Face token (default: $HF_TOKEN, then `huggingface-cli login`)")
    p.add_argument("--root", help="folder to deploy (default: this checkout)")
    p.set_defaults(func=cmd_deploy)
