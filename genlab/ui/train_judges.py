"""Which judge scores a Train tab run's previews: only one trained on the same pictures, since a digit
judge's verdicts on shapes mean nothing. MNIST runs use the shipped judge; other data uses a judge run
of this session trained on that data (`provenance.data_key` and the class names must match), which
"Train a judge for this data" makes with JUDGE_FOR_DATA."""

from typing import Optional, Tuple

from genlab import weights
from genlab.models.base import TrainConfig
from genlab.params import RequestError
from genlab.registry import FAMILIES
from genlab.train import provenance

JUDGE = "judge"  # the classifier family whose verdicts previews show
# a short run that tells the classes of a small set apart well (on drawn shapes it is nearly always right):
# few steps of small batches, a high rate cooled by the cosine schedule
JUDGE_FOR_DATA = TrainConfig(steps=60, batch_size=64, lr=2e-3, weight_decay=1e-4, warmup_steps=6,
                             schedule="cosine")
NO_JUDGE = "no judge for this data yet: press **Train a judge for this data** to get verdicts"
JUDGES_LATER = "once trained, this judge scores the previews of later runs on this data"


def data_entry(train) -> dict:
    """training.json's `dataset` entry for a run's training split ({} for data without classes: text)."""
    return provenance.record(train).get("dataset", {})


def registration(entry: dict) -> dict:
    """What a session's run record keeps so later runs can find a judge trained on the same data."""
    if not entry:
        return {}
    return {"data_key": provenance.data_key(entry), "classes": list(entry.get("classes", []))}


def _shipped_matches(entry: dict) -> bool:
    try:
        shipped = provenance.dataset_of(weights.shipped(FAMILIES[JUDGE]))
    except weights.WeightsError:
        return False
    return registration(shipped) == registration(entry)


def judge_for(store, session: Optional[dict], entry: dict) -> Tuple[Optional[object], str]:
    """(judge model, what the status says about it) for data described by `entry`: the shipped judge when it
    learned the same data, else this session's newest finished judge run on it; (None, why) when there is none."""
    if not entry:
        return None, ""
    wanted = registration(entry)
    if _shipped_matches(entry):
        try:
            return store.get(JUDGE), ""
        except weights.WeightsError:
            return None, ""  # no shipped judge here: previews without the judge's view
    runs = list((session or {}).get("runs", {}).items())
    for label, run in reversed(runs):
        if run.get("family") != JUDGE or registration_of(run) != wanted or store.runs.is_training(run["folder"]):
            continue
        try:
            return store.choose(JUDGE, label, session), f"verdicts by *{label}*, a judge trained on this data"
        except (RequestError, weights.WeightsError):
            continue  # deleted while idle, or never saved: try an older one
    return None, NO_JUDGE


def registration_of(run: dict) -> dict:
    return {"data_key": run.get("data_key"), "classes": run.get("classes")} if run.get("data_key") else {}
