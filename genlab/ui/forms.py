"""Forms generated from dataclasses: one widget per field, with the field's help and bounds.

The same field metadata (genlab.params) drives the CLI flags and the server-side checks, so a
form can never offer a value the server refuses, and the server re-checks whatever arrives.
"""

import contextlib
import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import gradio as gr

from genlab import params
from genlab.ui.store import PRETRAINED, model_choices

ADVANCED = "Advanced"  # the folded part of a form: every field not marked basic


def widget(f: dataclasses.Field, value, key: str, help: Optional[str] = None) -> gr.components.Component:
    """The widget for one field, showing `value`; `help` replaces the field's own help text."""
    spec = params.spec(f)
    label = f.name.replace("_", " ")
    common = {"label": label, "info": spec["help"] if help is None else help, "elem_id": key, "key": key}
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
    """The widgets of one dataclass's tunable fields, by field name in field order."""

    cls: type
    fields: Dict[str, gr.components.Component]

    @property
    def widgets(self) -> List[gr.components.Component]:
        return list(self.fields.values())

    def read(self, values: Mapping[gr.components.Component, object]) -> dict:
        """{field name: value} from the values an event received, keyed by widget (checked later, by params.build)."""
        return {name: values[w] for name, w in self.fields.items()}


@dataclasses.dataclass(frozen=True)
class FormPart:
    """One dataclass instance to show in a form, its widgets' elem_id prefix and help that replaces its own."""

    defaults: object
    prefix: str
    help: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def widget(self, f: dataclasses.Field) -> gr.components.Component:
        return widget(f, getattr(self.defaults, f.name), f"{self.prefix}-{f.name}", self.help.get(f.name))


def build_form(defaults, prefix: str, help: Optional[Mapping[str, str]] = None) -> Form:
    """Widgets for every tunable field of the dataclass instance `defaults`, showing its values."""
    part = FormPart(defaults, prefix, help or {})
    return Form(type(defaults), {f.name: part.widget(f) for f in params.tunable(defaults)})


def build_folded_forms(parts: Sequence[FormPart]) -> Tuple[Form, ...]:
    """One form per part: the basic fields of every part in view, the rest of all of them together
    in one collapsed "Advanced" accordion. Which fields are basic is the fields' own metadata
    (params.param(basic=True))."""
    made: List[Dict[str, gr.components.Component]] = [{} for _ in parts]
    for folded in (False, True):
        chosen = [(part, fields, f) for part, fields in zip(parts, made) for f in params.tunable(part.defaults)
                  if params.spec(f)["basic"] != folded]
        with gr.Accordion(ADVANCED, open=False) if folded else contextlib.nullcontext(), gr.Row(equal_height=True):
            for part, fields, f in chosen:  # the row wraps: as many a line as the column's width holds
                fields[f.name] = part.widget(f)
    return tuple(Form(type(part.defaults), {f.name: fields[f.name] for f in params.tunable(part.defaults)})
                 for part, fields in zip(parts, made))


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
