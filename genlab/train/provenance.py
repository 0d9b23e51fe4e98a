"""What a run's training.json says about its data, and what follows from it: the class names its
pictures show, and whether a judge was trained on the same data (so its metrics mean something)."""

from pathlib import Path
from typing import Optional, Tuple

from genlab import weights
from genlab.data.labelled_images import DIGIT_CLASSES

TRAINING = "training.json"


def record(data) -> dict:
    """training.json's `dataset` entry for training data with class names (image sets): its provenance
    ({name, files, sha256, ...}) and the class names in label order. {} for data without classes (text)."""
    classes = getattr(data, "classes", None)
    if classes is None:
        return {}
    return {"dataset": {**dict(getattr(data, "provenance", {}) or {}), "classes": list(classes)}}


def dataset_of(folder: Path) -> dict:
    """The run's `dataset` entry; runs that predate it trained on MNIST."""
    entry = weights.read_json(Path(folder) / TRAINING).get("dataset")
    return entry if isinstance(entry, dict) else {"name": "mnist", "classes": list(DIGIT_CLASSES)}


def classes_of(folder: Optional[Path]) -> Tuple[str, ...]:
    """Label i's name for the run in `folder` (the shipped models: the digits)."""
    if folder is None:
        return DIGIT_CLASSES
    classes = dataset_of(folder).get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        return DIGIT_CLASSES
    return tuple(classes)


def data_key(entry: dict) -> str:
    """What two runs must share to be scored against each other: a named set's name (MNIST's bundled
    sample counts as MNIST: same classes, same kind of picture), or a user's own pictures' SHA-256."""
    name = str(entry.get("name", "mnist"))
    if "pictures" in entry:  # the user's own zip or folder: the bytes decide, not the file's name
        return f"sha256:{entry.get('sha256', '')}"
    return "mnist" if name == "mnist-sample" else name


def describe(entry: dict) -> str:
    classes = entry.get("classes") or []
    return f"{entry.get('name', 'mnist')} ({len(classes)} classes)"


def check_judge_matches(run_folder: Path, judge_folder: Path) -> None:
    """ValueError unless the judge trained on the run's data: FID, fidelity and the floor are measured
    in the judge's feature space, which only means something for pictures like the ones it learned."""
    run, judge = dataset_of(run_folder), dataset_of(judge_folder)
    if data_key(run) != data_key(judge) or list(run.get("classes", [])) != list(judge.get("classes", [])):
        raise ValueError(f"the judge in {judge_folder} was trained on {describe(judge)}, the run in {run_folder} on "
                         f"{describe(run)}: train a judge on the same data (python -m genlab train judge --data ...) "
                         "and pass it with --judge")
