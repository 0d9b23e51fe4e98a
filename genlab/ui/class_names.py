"""Class pickers that speak the chosen model's classes: digits for the shipped models, a run's own
class names ("T-shirt/top", "cat") for a run trained on other data. Values stay the class numbers
("mix", "0", "1", ...), so the API and every handler take what they always took; only labels change."""

from typing import List, Optional, Sequence, Tuple

import gradio as gr

from genlab.data.labelled_images import DIGIT_CLASSES
from genlab.params import RequestError
from genlab.train import provenance
from genlab.registry import get_family
from genlab.ui import train_judges, train_records
from genlab.ui.store import PRETRAINED, ModelStore

SHOWN_CHARACTERS = 24  # of a long class name in a menu


def choices(classes: Sequence[str], first: Sequence[str] = ("mix",), last: Sequence[str] = ()) -> List[Tuple[str, str]]:
    """(label, value) pairs: `first` ("mix"), the classes (a digit shows as itself, any other name as
    "3 · cat"), then `last` ("none": no label)."""
    named = [(name if name == str(i) else f"{i} · {name[:SHOWN_CHARACTERS]}", str(i)) for i, name in enumerate(classes)]
    return [(c, c) for c in first] + named + [(c, c) for c in last]


def classes_for(store: ModelStore, family: str, choice: Optional[str], session: Optional[dict]) -> Tuple[str, ...]:
    """The class names of the model the picker names: a run's recorded ones, else the digits (the shipped
    models; a Hub model, whose files are not fetched just to label a menu: a class it lacks is refused
    with its range when asked for)."""
    if choice in (None, "", PRETRAINED):
        return DIGIT_CLASSES
    try:
        return provenance.classes_of(store.saved_run(session, choice, family))
    except RequestError:
        return DIGIT_CLASSES


def follow_model(picker: gr.Dropdown, family: str, store: ModelStore, session: gr.State,
                 pickers: Sequence[Tuple[gr.Dropdown, Sequence[str], Sequence[str]]]) -> None:
    """When `picker` changes model, each (class dropdown, choices before the classes, after them) lists
    that model's classes, keeping its value when the new model has it."""
    def relabel(state, choice, *values):
        classes = classes_for(store, family, choice, state)
        updates = []
        for (_, first, last), value in zip(pickers, values):
            offered = choices(classes, first, last)
            keep = value in {v for _, v in offered}
            updates.append(gr.Dropdown(choices=offered, value=value if keep else offered[len(first)][1]))
        return updates[0] if len(updates) == 1 else updates

    dropdowns = [dropdown for dropdown, _, _ in pickers]
    picker.change(relabel, [session, picker, *dropdowns], dropdowns, api_visibility="private", queue=False)


def judge_for_model(store: ModelStore, family: str, choice: Optional[str], session: Optional[dict]):
    """(judge, note) for samples of the model the picker names: the shipped judge for digit models; for a
    run on other data, a judge this session trained on the same data, else (None, what to do about it),
    because a digit judge's verdicts on shapes or clothes mean nothing."""
    if choice in (None, "", PRETRAINED):
        return store.get(train_judges.JUDGE), ""
    try:
        folder = store.saved_run(session, choice, family)
    except RequestError:
        return store.get(train_judges.JUDGE), ""  # a Hub model: taken to be a digit model, as its menu is
    judge, note = train_judges.judge_for(store, session, provenance.dataset_of(folder))
    return judge, (note if judge is not None else f"{choice} trained on {provenance.describe(provenance.dataset_of(folder))}: "
                   "verdicts need a judge trained on the same data (Train tab: Train a judge for this data)")


def held_out_pictures(store: ModelStore, trainer, family: str, choice: Optional[str], session: Optional[dict]):
    """The held-out split of the pictures a session run of `family` trained on, for tabs that show real
    pictures beside a model (the VAE's inputs and map); None for the shipped and Hub models and runs on
    MNIST, whose pictures are MNIST's test digits. `trainer`: the app's TrainContext, which loads sets."""
    record = (session or {}).get("runs", {}).get(choice)
    if choice in (None, "", PRETRAINED) or not record or record.get("family") != family or not record.get("data"):
        return None
    folder = store.saved_run(session, choice, family)
    chosen = train_records.kept_pictures(trainer, get_family(family), folder, record)
    return chosen.splits.test if chosen is not None else None  # None: the run trained on MNIST
