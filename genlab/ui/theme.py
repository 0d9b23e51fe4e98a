"""The dashboard's look: one gr.themes theme and the style sheets in genlab/ui/css (one per tab or idea)."""

from pathlib import Path

import gradio as gr

CSS_FOLDER = Path(__file__).with_name("css")


THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="sky", neutral_hue="slate").set(
    button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
    button_primary_text_color="white")  # a main button that reads as the one to press


def css() -> str:
    """Every style sheet in genlab/ui/css, base.css first, then by name."""
    sheets = sorted(CSS_FOLDER.glob("*.css"), key=lambda p: (p.name != "base.css", p.name))
    return "\n".join(p.read_text(encoding="utf-8") for p in sheets)
