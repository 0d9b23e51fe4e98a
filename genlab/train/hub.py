"""Share a trained model on the Hugging Face Hub, and load one back.

Pushing uploads what a weights folder holds (config.json, model.safetensors, training.json,
metrics.json) and a model card (genlab.eval.hub_card), from a temporary copy outside the folder,
with huggingface_hub's HfApi. The token goes to HfApi and nowhere else: never printed, logged or
written. A checkpoint folder (a run of the Train tab, or `--checkpoint`) has no training.json; its
state.json gives the facts instead, with the equivalent `python -m genlab train` command.

Loading fetches exactly config.json, checks that it is the family's (so another family's repo is
refused before its weights download), then config.json + model.safetensors, with snapshot_download
(kept in the Hub cache, $HF_HUB_CACHE), and loads them through genlab.weights.load: strict,
safetensors only. A repo id is checked by huggingface_hub's own rules and is only ever handed to
huggingface_hub, never joined to a local path. `allowed` (a public server's list) refuses any
other repo before anything is fetched.

It lives in train/ because it reads run folders and checkpoints, and both cli/ and ui/ use it.
"""

import dataclasses
import importlib
import json
import re
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, HFValidationError, LocalEntryNotFoundError,
                                    RepositoryNotFoundError)
from huggingface_hub.utils import validate_repo_id
from torch import nn

from genlab import params, weights
from genlab.eval import hub_card
from genlab.models.base import Family, TrainConfig
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train import checkpoints

TRAINING, METRICS, CARD = "training.json", "metrics.json", "README.md"
NEEDED = (weights.CONFIG, weights.TENSORS)  # all that loading a model fetches


class HubError(RequestError):
    """A Hub repo id, fetch or push that failed; the message names the repo and what to do, never a token
    or a local path."""


def hub_errors() -> tuple:
    """What a failed Hub call raises: the hub's own errors plus those of whichever HTTP client it uses."""
    found = [OSError, HfHubHTTPError]
    for module, name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:500] or type(err).__name__  # the hub's messages span lines


def check_repo_id(repo_id) -> str:
    """`repo_id` if it is a valid USER/NAME by huggingface_hub's rules; HubError otherwise."""
    shown = repr(repo_id)[:120]
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise HubError(f"a Hub model is named USER/NAME (e.g. alice/genlab-gan), got {shown}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise HubError(f"{shown} is not a valid Hub repo id: USER/NAME of letters, digits, '-', '_' and '.', "
                       "at most 96 characters, no '--' or '..'") from None
    return repo_id


def is_repo_id(choice) -> bool:
    """Whether a model choice is a valid Hub repo id (USER/NAME), not 'pretrained' or a run label (which
    never hold a '/'); anything else is looked up as a run label, and so refused as one."""
    try:
        check_repo_id(choice)
    except HubError:
        return False
    return True


def check_allowed(repo_id: str, allowed: Optional[Sequence[str]]) -> None:
    """HubError unless `repo_id` is in `allowed` (None: any repo may be loaded)."""
    if allowed is None or repo_id in allowed:
        return
    if not allowed:
        raise HubError(f"this server loads no models from the Hugging Face Hub, so not {repo_id}")
    raise HubError(f"this server loads only these models from the Hugging Face Hub: {', '.join(allowed)}; "
                   f"not {repo_id}")


def family_of_config(raw) -> Optional[Family]:
    """The family whose config fields are exactly the keys of `raw` (config.json's content); None if none."""
    keys = set(raw) if isinstance(raw, dict) else None
    return next((f for f in FAMILIES.values() if keys == {x.name for x in dataclasses.fields(f.config_cls)}), None)


def family_of(folder: Path) -> Family:
    """The family of the weights in `folder`, told by its config.json's keys; WeightsError if none matches."""
    path = Path(folder) / weights.CONFIG
    found = family_of_config(weights.load_json(path, "the model's config"))
    if found is None:
        raise weights.WeightsError(f"{path}: its keys match no genlab family's config")
    return found


# --- pushing --------------------------------------------------------------------------------------------

def equivalent_command(family: Family, recipe: dict, config) -> str:
    """The `python -m genlab train` command that trains the same model with the same recipe: a flag for
    every field that differs from the CLI's defaults (the family's recipe and config defaults)."""
    defaults = {**dataclasses.asdict(family.recipe), **dataclasses.asdict(family.config_cls())}
    chosen = {**{f.name: recipe[f.name] for f in params.tunable(TrainConfig) if f.name in recipe},
              **{f.name: getattr(config, f.name) for f in params.tunable(family.config_cls)}}
    flags = []
    for name, value in chosen.items():
        if value != defaults[name]:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            flags += ["--" + name.replace("_", "-"), shlex.quote(shown)]
    return " ".join(["python -m genlab train", family.name, *flags])


def checkpoint_facts(family: Family, folder: Path, data: Optional[str] = None, own_text: bool = False) -> dict:
    """training.json's facts for a checkpoint folder (state.json: its step and recipe)."""
    state = checkpoints.read_state(folder)
    recipe = checkpoints.read_recipe(folder)
    facts = {"command": equivalent_command(family, recipe, weights.read_config(family, folder)),
             "steps": state["step"], "recipe": recipe,
             "note": f"a checkpoint at step {state['step']} of {recipe['steps']}; the command is the "
                     "equivalent `python -m genlab train` run"}
    if data:
        facts["data"] = data
    if own_text:
        facts["own_text"] = True
    return facts


def run_facts(family: Family, folder: Path) -> Optional[dict]:
    """The training facts of `folder`: its training.json, or a checkpoint's state; None when neither is there."""
    folder = Path(folder)
    if (folder / TRAINING).is_file():
        return weights.read_json(folder / TRAINING)
    if (folder / checkpoints.STATE).is_file():
        return checkpoint_facts(family, folder)
    return None


def planned_files(family: Family, folder: Path, repo_id: str,
                  facts: Optional[dict] = None) -> Dict[str, Union[Path, str]]:
    """Each file the repo gets: a file of `folder` to copy, or the text to write (the card; the facts of a
    checkpoint, or `facts` given by the caller). WeightsError when the folder cannot be shared as it is."""
    folder = Path(folder)
    files: Dict[str, Union[Path, str]] = {name: folder / name for name in NEEDED}
    if facts is None and (folder / TRAINING).is_file():
        files[TRAINING] = folder / TRAINING
    facts = run_facts(family, folder) if facts is None else facts
    if facts and TRAINING not in files:
        files[TRAINING] = json.dumps(facts, indent=2) + "\n"
    metrics = weights.read_json(folder / METRICS)
    if metrics:
        if metrics.get("family", family.name) != family.name:
            raise weights.WeightsError(f"{folder / METRICS} measured a {metrics['family']} model, but "
                                       f"{folder / weights.CONFIG} is a {family.name}'s config")
        files[METRICS] = folder / METRICS
    files[CARD] = hub_card.render(family, repo_id, facts, metrics)
    return files


def sizes(files: Dict[str, Union[Path, str]]) -> List[Tuple[str, int]]:
    """(name, bytes) of each planned file, in upload order."""
    return [(name, source.stat().st_size if isinstance(source, Path) else len(source.encode("utf-8")))
            for name, source in files.items()]


TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_\-]{1,256}")  # Hugging Face tokens: hf_ and letters, digits


def checked_token(token: Optional[str]) -> Optional[str]:
    """`token` without surrounding whitespace (a secret file's trailing newline), or None; HubError when
    it holds other characters: an HTTP client would refuse it in a header and quote it in its error."""
    token = (token or "").strip() or None
    if token is not None and not TOKEN_CHARACTERS.fullmatch(token):
        raise HubError("that Hugging Face token is malformed (a token is hf_ followed by letters and digits); "
                       "copy it again from https://huggingface.co/settings/tokens")
    return token


def without(secret: Optional[str], text: str) -> str:
    return text.replace(secret, "***") if secret else text


def push(family: Family, folder: Path, repo_id: str, token: Optional[str], private: bool = False,
         facts: Optional[dict] = None) -> str:
    """Upload the model in `folder` to model repo `repo_id` (created if needed; `private` for a new one)
    and return its URL. The model must load (strict) first. HubError when the Hub refuses or is unreachable;
    its message never holds the token. Records a new push replaces go (an old metrics.json beside a new model)."""
    check_repo_id(repo_id)
    token = checked_token(token)
    weights.load(family, folder)  # only a model that loads is shared
    files = planned_files(family, folder, repo_id, facts)
    with tempfile.TemporaryDirectory(prefix="genlab-push-") as staging:  # outside the run folder
        for name, source in files.items():
            if isinstance(source, Path):
                shutil.copyfile(source, Path(staging) / name)
            else:
                (Path(staging) / name).write_text(source, encoding="utf-8")
        api = HfApi(token=token)
        try:
            url = api.create_repo(repo_id, repo_type="model", private=True if private else None, exist_ok=True)
            api.upload_folder(repo_id=repo_id, repo_type="model", folder_path=staging,
                              delete_patterns=[name for name in (TRAINING, METRICS) if name not in files],
                              commit_message=f"Upload a genlab {family.name} model with `python -m genlab push`")
        except hub_errors() as err:
            raise HubError(f"pushing to {repo_id} failed: {without(token, one_line(err))}") from None
    return str(url)


# --- loading --------------------------------------------------------------------------------------------

def fetch(repo_id: str, files: Sequence[str], where: str = "this machine") -> Path:
    """The Hub cache's folder holding `files` of model repo `repo_id` (downloaded if not cached);
    HubError, naming the repo, when the Hub cannot be reached and nothing is cached, or refuses."""
    try:
        return Path(snapshot_download(repo_id, repo_type="model", allow_patterns=list(files)))
    except LocalEntryNotFoundError:
        raise HubError(f"{where} could not reach the Hugging Face Hub to fetch {repo_id}, and has no cached "
                       "copy of it: connect to the internet (or unset HF_HUB_OFFLINE) and try again") from None
    except (RepositoryNotFoundError, GatedRepoError):
        raise HubError(f"no model {repo_id} on the Hugging Face Hub that {where} may read (a private or gated "
                       "repo needs a token with access: `huggingface-cli login` or HF_TOKEN)") from None
    except hub_errors() as err:  # an OSError's text names the cache folder: its reason alone
        reason = err.strerror if isinstance(err, OSError) and err.strerror else one_line(err)
        raise HubError(f"fetching {repo_id} from the Hugging Face Hub failed: {reason}") from None


def load_from_hub(family: Family, repo_id: str, device=None, allowed: Optional[Sequence[str]] = None,
                  where: str = "this machine") -> nn.Module:
    """The `family` model of Hub repo `repo_id` (eval mode, on `device`). `allowed`: the only repos that
    may be loaded (None: any). HubError for a bad id, a repo not allowed, another family's model, a
    repo that is no genlab model, or a fetch that failed."""
    check_repo_id(repo_id)
    check_allowed(repo_id, allowed)
    folder = fetch(repo_id, [weights.CONFIG], where)
    try:
        raw = weights.load_json(folder / weights.CONFIG, "the model's config")
    except weights.WeightsError:
        raise HubError(f"{repo_id} has no readable config.json: it is not a genlab model") from None
    found = family_of_config(raw)
    if found is None:
        raise HubError(f"{repo_id}'s config.json matches no genlab family's config: it is not a genlab model")
    if found is not family:
        raise HubError(f"{repo_id} holds a {found.name} model ({found.title}), not a {family.name} model")
    folder = fetch(repo_id, NEEDED, where)
    if not (folder / weights.TENSORS).is_file():
        raise HubError(f"{repo_id} has no {weights.TENSORS}: genlab loads safetensors weights only")
    try:
        return weights.load(family, folder, device)
    except weights.WeightsError as err:  # its message names the cache folder: show the repo instead
        raise HubError(str(err).replace(str(folder), repo_id)) from None
