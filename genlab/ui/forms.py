"""Forms generated from dataclasses: one widget per field, with the field's help and bounds.

The same field metadata (genlab.params) drives the CLI flags and the server-side checks, so a
form can never offer a value the server refuses, and the server re-checks whatever arrives.
"""

import dataclasses
from typing import Dict, List

import gradio as gr

from genlab import params
from genlab.ui.store import PRETRAINED, model_choices


def widget(f: dataclasses.Field, value, key: str) -> gr.components.Component:
    """The widget for one field, showing `value`."""
    spec = params.spec(f)
    label = f.name.replace("_", " ")
    common = {"label": label, "info": spec["help"], "elem_id": key, "key": key}
    if isinstance(value, bool):
        return gr.Checkbox(value=value, **common)
    if isinstance(value, str):
        return gr.Dropdown(list(spec["choices"] or [value]), value=value, **common)
    return gr.Number(value=value, minimum=spec["low"], maximum=spec["high"],
                     precision=0 if isinstance(value, int) else None, **common)


def seed_box(label: str, value: int) -> gr.Number:
    """A seed field with the one bound every seed check uses (params.MAX_SEED)."""
    return gr.Number(value, precision=0, minimum=0, maximum=params.MAX_SEED, label=label)


@dataclasses.dataclass(frozen=True)
class Form:
    """The widgets of one dataclass's tunable fields, in field order."""

    cls: type
    widgets: List[gr.components.Component]

    def read(self, values: Dict[gr.components.Component, object]) -> dict:
        """{field name: value} from the values an event received, keyed by widget (checked later, by params.build)."""
        return {f.name: values[w] for f, w in zip(params.tunable(self.cls), self.widgets)}


def build_form(defaults, prefix: str) -> Form:
    """Widgets for every tunable field of the dataclass instance `defaults`, showing its values."""
    return Form(type(defaults), [widget(f, getattr(defaults, f.name), f"{prefix}-{f.name}")
                                 for f in params.tunable(defaults)])


def form_values(instance) -> List[object]:
    """Widget values (field order) showing `instance`: used to fill a form from a preset."""
    return [getattr(instance, f.name) for f in params.tunable(instance)]


def model_picker(family, session: gr.State, elem_id: str = "") -> gr.Dropdown:
    """'pretrained' or one of this session's runs of the family; the choices refresh on focus.

    `family` is a family name, or a component holding one (a tab that offers several families):
    then changing it resets the picker to that family's models.
    """
    fixed = isinstance(family, str)
    picker = gr.Dropdown([PRETRAINED], value=PRETRAINED, label="Model",
                         elem_id=elem_id or (f"{family}-model" if fixed else None),
                         info="the shipped weights, or a run you trained in the Train tab")
    if fixed:
        picker.focus(lambda s: gr.Dropdown(choices=model_choices(s, family)), session, picker,
                     api_visibility="private", queue=False)
        return picker
    picker.focus(lambda s, f: gr.Dropdown(choices=model_choices(s, f)), [session, family], picker,
                 api_visibility="private", queue=False)
    family.change(lambda s, f: gr.Dropdown(choices=model_choices(s, f), value=PRETRAINED), [session, family],
                  picker, api_visibility="private", queue=False)
    return picker
