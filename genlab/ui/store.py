"""The models every tab samples from: shipped weights (loaded once) and this session's runs."""

import logging
import tempfile
import threading
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import torch
from torch import nn

from genlab import devices, weights
from genlab.params import RequestError
from genlab.registry import get_family
from genlab.train import hub
from genlab.ui.recently_used import RecentlyUsed
from genlab.ui.run_ledger import RunLedger

PRETRAINED = "pretrained"
LOG = logging.getLogger("genlab")
HUB_MODELS_KEPT = 8  # Hub models held in memory; past it the least recently used goes (its files stay in the Hub cache)


def for_serving(model: nn.Module) -> nn.Module:
    """The layout the store serves from: convolution weights channels-last (NHWC), which oneDNN runs
    faster on CPU (benchmarks/gan_speed.py). Served models are never saved (safetensors wants the
    default layout)."""
    return model.to(memory_format=torch.channels_last)


class ModelStore:
    def __init__(self, device: str = "", runs_root: Optional[Path] = None, idle_run_seconds: float = float("inf"),
                 max_runs: float = float("inf"), hub_models: Optional[Sequence[str]] = None):
        self.device = devices.resolve(device)
        self.hub_models = None if hub_models is None else tuple(hub_models)  # None: any Hub repo (local mode)
        self._hub: RecentlyUsed = RecentlyUsed(HUB_MODELS_KEPT)  # (family, repo) -> model
        self.runs_root = Path(runs_root or tempfile.mkdtemp(prefix="genlab-runs-"))  # server-owned
        self.runs = RunLedger(self.runs_root, idle_run_seconds, max_runs)
        self._models: Dict[str, nn.Module] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> nn.Module:
        """The shipped model of family `name` on this store's device (eval mode)."""
        with self._lock:
            if name not in self._models:
                self._models[name] = for_serving(weights.load(get_family(name), device=self.device))
            return self._models[name]

    def in_background(self, call: Callable, *args) -> threading.Thread:
        """Start `call(self, *args)` on a daemon thread (a warm-up: the models it loads and the kernels
        its first forward pass builds are then ready before the first user asks). A request for a model
        it is loading waits on this store's lock instead of loading it again; a failure is logged,
        and the first request that needs the model meets it again."""
        def run():
            try:
                call(self, *args)
            except Exception as err:  # noqa: BLE001 - a warm-up must never take the server down
                LOG.warning("warm-up %s failed: %s", getattr(call, "__name__", call), err)
        thread = threading.Thread(target=run, name="genlab-warm-up", daemon=True)
        thread.start()
        return thread

    def run_folder(self, session: Optional[dict], label: Optional[str], family: Optional[str] = None) -> Path:
        """The folder of run `label` of this session (of `family`, if given); RequestError otherwise.

        Sessions hold only labels; folders are named by the server, so no user string becomes a path.
        """
        run = (session or {}).get("runs", {}).get(label)
        if label is None:
            raise RequestError("this session has no training run yet: start one in the Train tab")
        if run is None or (family is not None and run["family"] != family):
            kind = f"{family} run" if family else "run"
            raise RequestError(f"no {kind} named {label!r} in this session; train one in the Train tab")
        self.runs.touch(run["folder"])
        return self.runs_root / run["folder"]

    def saved_run(self, session: Optional[dict], label: Optional[str], family: Optional[str] = None) -> Path:
        """run_folder() of a run that has a checkpoint; RequestError when it has none or was deleted."""
        folder = self.run_folder(session, label, family)
        if not self.runs.exists(folder.name):
            raise RequestError(f"run {label!r} has no saved checkpoint: it was deleted after "
                               f"{self.runs.idle_seconds / 60:g} minutes unused, or it never reached its first save"
                               if self.runs.idle_seconds != float("inf") else
                               f"run {label!r} has no saved checkpoint yet")
        return folder

    def choose(self, name: str, choice: Optional[str], session: Optional[dict]) -> nn.Module:
        """'pretrained' (or nothing) -> the shipped model; a run label -> that run's latest checkpoint;
        USER/NAME -> that Hub repo's model (from_hub)."""
        if choice in (None, "", PRETRAINED):
            return self.get(name)
        if hub.is_repo_id(choice):
            return self.from_hub(name, choice)
        return for_serving(weights.load(get_family(name), self.saved_run(session, choice, name), device=self.device))

    def from_hub(self, name: str, repo_id: str) -> nn.Module:
        """The family `name` model of Hub repo `repo_id`, fetched once and kept (HUB_MODELS_KEPT at most).
        A repo not in `hub_models` (when set: public mode) is refused before anything is fetched; the
        download runs outside the lock, so other requests never wait for it."""
        hub.check_allowed(hub.check_repo_id(repo_id), self.hub_models)
        return self._hub.get_or_make((name, repo_id), lambda: for_serving(hub.load_from_hub(
            get_family(name), repo_id, self.device, self.hub_models, where="the server")))

    @property
    def concurrency_limit(self) -> int:
        """How many calls of one lane may run at once: one on CPU (torch already uses every core), four on a GPU."""
        return 1 if self.device.type == "cpu" else 4

    def lane(self, name: str) -> dict:
        """Event settings that put a handler in lane `name` of LANES: each lane has its own slots, so a
        long denoising or text request never makes a GAN grid wait for it."""
        if name not in LANES:
            raise ValueError(f"unknown lane {name!r}; one of {', '.join(LANES)}")
        return {"concurrency_id": name, "concurrency_limit": self.concurrency_limit}


# model calls grouped by how long one can take; calls in different lanes run side by side
LANES = {
    "quick": "one forward pass: GAN and VAE grids, reconstructions, interpolations, the judge",
    "denoising": "tens to hundreds of UNet calls: the diffusion tab and Compare",
    "text": "one network call per character: generation and the temperature sweep",
}


def model_choices(session: Optional[dict], name: str, current: Optional[str] = None,
                  offered: Optional[Sequence[str]] = None) -> list:
    """'pretrained', this session's runs of family `name` (newest last), the Hub repos the server offers
    (`offered`, ServerLimits.hub_models, public mode) and `current`, the picker's value, when it is a Hub repo."""
    runs = [label for label, run in (session or {}).get("runs", {}).items() if run["family"] == name]
    offered = list(offered or ())
    typed = [current] if hub.is_repo_id(current) and current not in offered else []
    return [PRETRAINED] + runs + offered + typed
