"""What the Train tab keeps about a run's data: the session's record of the run, the user's own text or
zip beside its checkpoint folder (Resume trains on the same data), and training.json in the folder with
the facts the CLI records (`family`, the data's provenance and class names).

Every checkpoint save replaces the folder whole, so training.json is written again after saves; the
user's data lives beside the folder, named after it, and the run ledger deletes it with the run.
"""

import dataclasses
from pathlib import Path
from typing import Optional

from genlab import weights
from genlab.params import RequestError
from genlab.train import checkpoints, provenance
from genlab.ui import train_data, train_judges


def session_record(family, folder_name: str, data) -> dict:
    """The session's record of a new run: its family, folder, and data (own text, the chosen pictures and
    what a judge must have learned to score it)."""
    pictures = data.pictures
    return {"family": family.name, "folder": folder_name, "text": data.own_text is not None,
            "data": pictures.choice if pictures is not None else None,
            **({"zip_name": pictures.splits.train.provenance.get("name")} if pictures and pictures.archive else {}),
            **train_judges.registration(train_judges.data_entry(data.train))}


def keep_user_data(runs_root: Path, folder_name: str, data) -> None:
    """The user's text or zip, beside the run's checkpoint folder (already bounded where it arrived)."""
    pictures = data.pictures
    if data.own_text is None and (pictures is None or pictures.archive is None):
        return
    runs_root.mkdir(parents=True, exist_ok=True)
    if data.own_text is not None:
        (runs_root / f"{folder_name}.txt").write_text(data.own_text, encoding="utf-8")
    else:
        train_data.kept_zip(runs_root, folder_name).write_bytes(pictures.archive)


def kept_text(folder: Path, record: dict) -> Optional[str]:
    return folder.with_name(folder.name + ".txt").read_text(encoding="utf-8") if record.get("text") else None


def kept_pictures(ctx, family, folder: Path, record: dict):
    """The pictures a run started on (None: MNIST): its named set, or the user's zip kept beside it."""
    choice = record.get("data")
    if not choice:
        return None
    archive = None
    if choice == train_data.OWN_ZIP:
        kept = train_data.kept_zip(folder.parent, folder.name)
        if not kept.is_file():
            raise RequestError("this run's pictures are no longer kept on the server: start a new run")
        archive = kept.read_bytes()
    return ctx.chosen_pictures(family.name, choice, archive=archive,
                               archive_name=str(record.get("zip_name") or train_data.KEPT_ZIP))


@dataclasses.dataclass
class RunFacts:
    """training.json of a Train tab run: what the CLI records about its family and data."""

    folder: Path
    facts: dict

    @classmethod
    def of(cls, folder: Path, family, train_set, recipe) -> "RunFacts":
        return cls(Path(folder), {"family": family.name, "data": train_set.source,
                                  "recipe": dataclasses.asdict(recipe), **provenance.record(train_set)})

    def keep(self, final: bool = False) -> None:
        """Write training.json when a save has replaced the folder without it (`final`: always, with the
        checkpoint's step). A full disk only loses the facts, never the run."""
        path = self.folder / provenance.TRAINING
        if not self.folder.is_dir() or (path.is_file() and not final):
            return
        try:
            step = checkpoints.read_step(self.folder) if final else None
            weights.write_json(path, {**self.facts, **({"steps": step} if step is not None else {})})
        except weights.WeightsError:
            pass
