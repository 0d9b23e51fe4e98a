"""Each tab's explanation, written in Markdown beside this file so it reads and edits as prose."""

from pathlib import Path

import gradio as gr

# $$...$$ for display maths and $...$ inline, as the texts write them.
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def text(name: str) -> str:
    return (Path(__file__).parent / f"{name}.md").read_text(encoding="utf-8")


def explainer(name: str) -> gr.Markdown:
    """The tab's how-it-works text (genlab/ui/docs/<name>.md), maths rendered."""
    return gr.Markdown(text(name), latex_delimiters=LATEX)
