"""The Text tab: stream characters from a char-level GPT or LSTM, see what the model thought of each."""

import time
from typing import List, Optional

import gradio as gr
import pandas as pd

from genlab.models.text import generation
from genlab.params import RequestError, check_value
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui import docs, forms
from genlab.ui.gpu import TEXT_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.store import PRETRAINED, ModelStore

STREAM_SECONDS = 1 / 30  # at most this often a growing text is sent (about one screen refresh)
SWEEP_MAX_CHARS = 500  # the sweep makes three texts: keep it quick
VISIBLE = {"\n": "⏎", " ": "␣", "\t": "⇥"}  # how invisible characters appear in the alternatives


def _visible(char: str) -> str:
    return VISIBLE.get(char, char)


def stream_text(store: ModelStore, family_name, choice, prompt, n_chars, temperature, top_k, top_p, seed,
                session=None):
    """Yield (text, status, token view, tokens, position slider) as characters arrive; the last one is complete."""
    family_name = check_value("model family", family_name, str, choices=TEXT_FAMILIES)
    request = generation.text_request(prompt, n_chars, temperature, top_k, top_p, seed)  # before any model work
    model = store.choose(family_name, choice, session)
    shown = request.prompt
    tokens: List[list] = []
    began = last_sent = time.perf_counter()
    for token in generation.generate(model, request):
        tokens.append([token.char, token.prob, token.alternatives])
        now = time.perf_counter()
        if now - last_sent >= STREAM_SECONDS:
            last_sent = now
            text = shown + "".join(t[0] for t in tokens)
            yield text, f"{len(tokens)} / {request.n_chars} characters", gr.skip(), gr.skip(), gr.skip()
    elapsed = time.perf_counter() - began
    text = shown + "".join(t[0] for t in tokens)
    status = (f"{len(tokens)} characters in {elapsed:.2f} s ({len(tokens) / max(elapsed, 1e-9):,.0f} characters/s) "
              f"from {FAMILIES[family_name].title}, {choice or PRETRAINED}")
    yield text, status, token_view(tokens), tokens, gr.Slider(1, max(2, len(tokens)), value=1, interactive=True)


def token_view(tokens: List[list]) -> List[tuple]:
    """(character, score) pairs for gr.HighlightedText: score 1 - p, so red marks surprising characters."""
    return [(char, round(1.0 - prob, 3)) for char, prob, _ in tokens]


def alternatives_at(tokens: Optional[List[list]], position) -> tuple:
    """What the model thought at generated character `position` (1-based): a summary and a top-5 table."""
    if not tokens:
        raise RequestError("generate some text first")
    position = check_value("position", position, int, 1, len(tokens))
    char, prob, alternatives = tokens[position - 1]
    table = pd.DataFrame({"character": [f"{i + 1}. {_visible(c)}" for i, (c, _) in enumerate(alternatives)],
                          "probability": [p for _, p in alternatives]})
    rank = next((i + 1 for i, (c, _) in enumerate(alternatives) if c == char), None)
    where = f"its choice no. {rank}" if rank else "not in its top 5"
    summary = f"Character {position}: **{_visible(char)!r}** had probability **{prob:.1%}** ({where})."
    return summary, table


def clicked(tokens, event: gr.SelectData):
    """A click on the token view: the alternatives at that character."""
    position = (event.index if isinstance(event.index, int) else event.index[0]) + 1
    return (*alternatives_at(tokens, position), position)


def temperature_sweep(store: ModelStore, family_name, choice, prompt, n_chars, t1, t2, t3, top_k, top_p, seed,
                      session=None) -> tuple:
    """The same prompt and seed at three temperatures."""
    family_name = check_value("model family", family_name, str, choices=TEXT_FAMILIES)
    n_chars = check_value("sweep length", n_chars, int, 1, SWEEP_MAX_CHARS)
    requests = [generation.text_request(prompt, n_chars, t, top_k, top_p, seed) for t in (t1, t2, t3)]
    model = store.choose(family_name, choice, session)
    return tuple(requests[0].prompt + generation.generate_text(model, r) for r in requests)


def build(demo: gr.Blocks, shared) -> None:
    store, session = shared.store, shared.session
    limits = store.lane("text")
    tokens = gr.State([])
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            family = gr.Radio([(FAMILIES[n].title, n) for n in TEXT_FAMILIES], value=TEXT_FAMILIES[0],
                              label="Model family", elem_id="text-family")
            model = forms.model_picker(family, session, elem_id="text-model")
            prompt = gr.Textbox("ROMEO:", label="Prompt", lines=3, max_length=generation.MAX_PROMPT_CHARS,
                                elem_id="text-prompt", info="empty: start from a new line")
            n_chars = gr.Slider(1, generation.MAX_NEW_CHARS, value=300, step=1, label="New characters")
            temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature (0 = greedy)")
            top_k = gr.Slider(0, 65, value=0, step=1, label="Top-k (0 = off)")
            top_p = gr.Slider(0.05, 1, value=1.0, step=0.05, label="Top-p (1 = off)")
            seed = forms.seed_box("Seed", 0)
            with gr.Row():
                go = gr.Button("Generate", variant="primary", elem_id="text-generate")
                stop = gr.Button("Stop", variant="stop", elem_id="text-stop")
        with gr.Column(scale=2):
            output = gr.Textbox(label="Generated text", lines=14, max_lines=30, elem_id="text-output",
                                buttons=["copy"], autoscroll=True)
            status = gr.Markdown(elem_id="text-status")
            view = gr.HighlightedText(label="Token view: red = the model found it surprising (click a character)",
                                      combine_adjacent=False, show_legend=False, elem_id="text-tokens")
            with gr.Row():
                position = gr.Slider(1, 2, value=1, step=1, label="Position", interactive=False,
                                     elem_id="text-position")
                summary = gr.Markdown(elem_id="text-alternative-summary")
            alternatives = gr.BarPlot(x="character", y="probability", label="The model's top 5 at that position",
                                      y_lim=[0, 1], sort="x", elem_id="text-alternatives", height=220)
    with gr.Accordion("Temperature sweep: same prompt and seed, three temperatures", open=False):
        with gr.Row():
            temps = [gr.Number(t, minimum=0, maximum=5, label=f"Temperature {i + 1}")
                     for i, t in enumerate((0.3, 0.8, 1.4))]
            sweep_chars = gr.Slider(1, SWEEP_MAX_CHARS, value=200, step=1, label="Characters each")
            sweep = gr.Button("Compare", elem_id="text-sweep")
        with gr.Row():
            sweep_out = [gr.Textbox(label=f"Temperature {i + 1}", lines=10, elem_id=f"text-sweep-{i + 1}")
                         for i in range(3)]
    docs.explainer("text")

    event = go.click(handler(stream_text, store, gpu_seconds=TEXT_GPU_SECONDS),
                     [family, model, prompt, n_chars, temperature, top_k, top_p, seed, session],
                     [output, status, view, tokens, position], api_name="text_generate", **limits)
    stop.click(None, None, None, cancels=[event], api_visibility="private")
    event.success(handler(alternatives_at), [tokens, position], [summary, alternatives],
                  api_visibility="private", queue=False)
    position.release(handler(alternatives_at), [tokens, position], [summary, alternatives],
                     api_name="text_alternatives")  # queued: api_open=False then refuses direct calls
    view.select(handler(clicked), tokens, [summary, alternatives, position], api_visibility="private",
                queue=False)
    sweep.click(handler(temperature_sweep, store, gpu_seconds=TEXT_GPU_SECONDS),
                [family, model, prompt, sweep_chars, *temps, top_k, top_p, seed, session], sweep_out,
                api_name="text_sweep", **limits)
