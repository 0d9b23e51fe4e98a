"""Forms generated from dataclasses: one widget per field, with the field's help and bounds.

The same field metadata (genlab.params) drives the CLI flags and the server-side checks, so a
form can never offer a value the server refuses, and the server re-checks whatever arrives.
"""

import contextlib
import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import gradio as gr

from genlab import params
from genlab.params import RequestError
from genlab.train import hub
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


PICKER_INFO = {  # by what a model picker may load from the Hub (ServerLimits.hub_models: None, any; a list; none)
    "any": "shipped, your Train-tab runs, or a Hugging Face Hub model",
    "listed": "shipped, your Train-tab runs, or a Hub model this server offers",
    "none": "the shipped weights, or a run you trained in the Train tab",
}


def model_picker(family, session: gr.State, offered: Optional[Sequence[str]] = None, elem_id: str = "") -> gr.Dropdown:
    """'pretrained', one of this session's runs of the family or a Hub model; the choices refresh on focus.

    Locally, a "Load from the Hub" field under the picker takes any USER/NAME and puts it in the picker
    (the tab's button fetches it, then it is cached); a public server offers only the repos its owner
    lists (`offered`, the server's ServerLimits.hub_models), in the picker itself, and has no field.
    Either way the store checks the choice again.
    `family` is a family name, or a component holding one (a tab that offers several families):
    then changing it resets the picker to that family's models.
    """
    fixed = isinstance(family, str)
    info = PICKER_INFO["any" if offered is None else "listed" if offered else "none"]
    picker_id = elem_id or (f"{family}-model" if fixed else None)
    picker = gr.Dropdown([PRETRAINED, *(offered or [])], value=PRETRAINED, label="Model", elem_id=picker_id,
                         info=info, allow_custom_value=True)  # a typed USER/NAME: checked by the store
    with gr.Accordion("Load from the Hub", open=False, visible=offered is None,
                      elem_id=f"{picker_id}-hub" if picker_id else None):
        typed = gr.Textbox(label="Hub model (USER/NAME)", placeholder="alice/genlab-gan, then Enter",
                           max_length=96, elem_id=f"{picker_id}-hub-repo" if picker_id else None,
                           info="a model shared with `python -m genlab push`; the first use downloads it")
    private = {"api_visibility": "private", "queue": False}
    queued = {"api_visibility": "private", "show_progress": "hidden"}  # through the queue: its warning reaches the page

    def add_repo(state, name, repo):
        """The typed USER/NAME becomes the picker's value; a malformed one is a warning, and nothing changes."""
        try:
            repo = hub.check_repo_id((repo or "").strip())
        except RequestError as err:
            gr.Warning(str(err))  # not an error: Gradio would mark the picker itself as failed
            return gr.skip(), gr.skip()
        return gr.Dropdown(choices=model_choices(state, name, repo, offered), value=repo), ""

    if fixed:
        picker.focus(lambda s, v: gr.Dropdown(choices=model_choices(s, family, v, offered)), [session, picker], picker,
                     **private)
        typed.submit(lambda s, r: add_repo(s, family, r), [session, typed], [picker, typed], **queued)
        return picker
    picker.focus(lambda s, f, v: gr.Dropdown(choices=model_choices(s, f, v, offered)), [session, family, picker],
                 picker,
                 **private)
    family.change(lambda s, f: gr.Dropdown(choices=model_choices(s, f, offered=offered), value=PRETRAINED),
                  [session, family],
                  picker, **private)
    typed.submit(add_repo, [session, family, typed], [picker, typed], **queued)
    return picker
