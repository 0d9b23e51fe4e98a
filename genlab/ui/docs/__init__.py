"""Each tab's explanation, written in Markdown beside this file so it reads and edits as prose, and
below it the tab's networks drawn with their shapes (genlab.ui.network_diagram)."""

from pathlib import Path
from typing import Optional

import gradio as gr

from genlab import weights
from genlab.params import RequestError
from genlab.models.playground import PLAYGROUND_FAMILIES
from genlab.registry import FAMILIES, get_family
from genlab.ui import network_diagram
from genlab.ui.store import PRETRAINED

# $$...$$ for display maths and $...$ inline, as the texts write them.
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

# the families whose networks each tab's explanation draws
NETWORKS = {"gan": ("gan",), "vae": ("vae",), "diffusion": ("diffusion",), "text": ("gpt", "lstm"),
            "compare": ("gan", "vae", "diffusion"), "train": tuple(FAMILIES),
            "playground": tuple(PLAYGROUND_FAMILIES.values())}  # Family objects: no shipped weights, drawn at defaults


def text(name: str) -> str:
    return (Path(__file__).parent / f"{name}.md").read_text(encoding="utf-8")


def explainer(name: str, picker: Optional[gr.Dropdown] = None, store=None, session: Optional[gr.State] = None) -> gr.Markdown:
    """The tab's how-it-works text (genlab/ui/docs/<name>.md), maths rendered, and an accordion drawing its
    networks, filled when opened (tracing costs a second or two: never at start). With the tab's model
    `picker` (one family), the drawing follows the chosen model: a run's own sizes."""
    explained = gr.Markdown(text(name), latex_delimiters=LATEX)
    families = NETWORKS.get(name, ())
    if not families:
        return explained
    with gr.Accordion("How it is built: the network, layer by layer, with its shapes", open=False,
                      elem_id=f"{name}-network") as folded:
        drawing = gr.HTML(elem_id=f"{name}-network-diagram")

    def draw(state=None, choice=None) -> str:
        if choice in (None, "", PRETRAINED) or store is None:
            return "".join(network_diagram.shipped_diagram(f) if isinstance(f, str)
                           else network_diagram.diagram(f, f.config_cls())  # ships no weights: its defaults
                           for f in families)
        family = get_family(families[0])
        try:
            config = weights.read_config(family, store.saved_run(state, choice, family.name))
        except (RequestError, weights.WeightsError):
            return network_diagram.shipped_diagram(family.name)  # a Hub model: its files are not fetched for this
        return network_diagram.diagram(family, config)

    private = {"api_visibility": "private", "show_progress": "hidden"}
    if picker is None or store is None or session is None:
        folded.expand(draw, None, drawing, **private)
    else:
        folded.expand(draw, [session, picker], drawing, **private)
        picker.change(draw, [session, picker], drawing, **private)
    return explained
