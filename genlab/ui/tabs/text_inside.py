"""The Text tab's look inside the model at a picked character: what the GPT attended to, and how
temperature, top-k and top-p reshaped the distribution it was drawn from (the `text_attention` endpoint)."""

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import List, Optional

import gradio as gr
import torch

from genlab.models.text import attention, generation, pipeline
from genlab.params import RequestError, check_value
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui import attention_views
from genlab.ui.gpu import TEXT_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.store import ModelStore

MAX_TEXT_CHARS = generation.MAX_PROMPT_CHARS + generation.MAX_NEW_CHARS  # a prompt and a whole run
MAX_LAYERS, MAX_HEADS = 24, 32  # GPTConfig's own bounds: checked before a model is chosen
ATTENTION_EMPTY = '<p class="attn-empty">Click a generated character to see what the model looked at to write it.</p>'
PIPELINE_EMPTY = ('<p class="attn-empty">…and how temperature, top-k and top-p reshaped the distribution it '
                  'was drawn from.</p>')
ATTENTION_LABEL = "Attention: which earlier characters the model looked at (GPT)"
PIPELINE_LABEL = "Sampling pipeline at that character: logits → temperature → top-k → top-p"


MEMO_SIZE = 4  # texts whose replays are kept per model: later picks and knob moves need no decoding again
# model -> OrderedDict((prompt, rest) -> (lock, start, [replay])); weak: a model the store drops takes its replays
_MEMO: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()


def explain(store: ModelStore, family_name, choice, text, position, layer, head, temperature, top_k, top_p,
            prompt_chars=MAX_TEXT_CHARS, session=None) -> tuple:
    """(attention HTML, pipeline HTML) for character `position` (1-based) of `text`, as the model
    `choice` of `family_name` wrote it. layer and head pick the large map: 1-based, 0 = their average.
    prompt_chars: how many leading characters were the prompt; generation read those in one pass and
    fed it the rest one at a time, and so does this (past a GPT's window that changes its numbers)."""
    return _explained(store, family_name, choice, text, position, layer, head, temperature, top_k, top_p,
                      prompt_chars, session, shown_position=None)


def _explained(store, family_name, choice, text, position, layer, head, temperature, top_k, top_p, prompt_chars,
               session, shown_position: Optional[int]) -> tuple:
    """explain(), the views numbering the character `shown_position` (the tab counts generated characters)."""
    family_name = check_value("model family", family_name, str, choices=TEXT_FAMILIES)
    if not isinstance(text, str) or not text:
        raise RequestError("text must be a non-empty string: the text whose character to explain")
    if len(text) > MAX_TEXT_CHARS:
        raise RequestError(f"text must be at most {MAX_TEXT_CHARS} characters, got {len(text):,}")
    position = check_value("position", position, int, 1, len(text))
    layer = check_value("layer", layer, int, 0, MAX_LAYERS)
    head = check_value("head", head, int, 0, MAX_HEADS)
    request = generation.text_request("", 1, temperature, top_k, top_p)  # the knobs, checked as generation does
    prompt_chars = check_value("prompt characters", prompt_chars, int, 0, MAX_TEXT_CHARS)
    model = store.choose(family_name, choice, session)
    read = text[:position - 1]
    generation.check_prompt(model.vocab, text)  # refuses unknown characters anywhere in it, naming them
    split = min(prompt_chars, len(read))
    shown_attention = attention.has_attention(model)
    if shown_attention:
        layers, heads = model.config.n_layer, model.config.n_head
        check_value("layer", layer, int, 0, layers)  # this model's own sizes, before any forward pass
        check_value("head", head, int, 0, heads)
        if layer == 0 and head:
            raise RequestError("head needs a layer: pick a layer from 1 (or head 0 for the average)")
    logits = _generation_logits(model, text[:split], text[split:], position - 1 - split)
    stages = pipeline.stages(logits, request.temperature, request.top_k, request.top_p)
    drawn, shown = text[position - 1], shown_position or position
    view = pipeline_html(model, stages, drawn, shown, request)
    if not shown_attention:
        return attention_views.no_attention_view(FAMILIES[family_name].title), view
    prompt_ids = generation.check_prompt(model.vocab, read[:split])[-model.context:]  # as begin() keeps it
    window = torch.cat([prompt_ids, model.vocab.encode(read[split:])])[-model.context:]
    rows = attention.attention_weights(model, window)[:, :, -1]  # (L, H, T): from the last character read
    window_text = model.vocab.decode(window)  # for the first character, generation's start (a newline)
    return attention_views.attention_view(window_text, drawn, shown, rows, layer, head), view


def _generation_logits(model, prompt: str, rest: str, fed: int) -> torch.Tensor:
    """The logits generation had after `prompt` and the first `fed` characters of `rest`: one
    pipeline.GenerationReplay per (model, prompt, rest), kept, so later picks in the same text reuse it."""
    with _MEMO_LOCK:
        kept = _MEMO.setdefault(model, OrderedDict())
        if (prompt, rest) not in kept:
            vocab = model.vocab
            kept[prompt, rest] = (threading.Lock(), lambda: pipeline.GenerationReplay(
                model, generation.check_prompt(vocab, prompt), vocab.encode(rest)), [])
        kept.move_to_end((prompt, rest))
        lock, start, replay = kept[prompt, rest]
        while len(kept) > MEMO_SIZE:
            kept.popitem(last=False)
    with lock:  # one request at a time steps a replay; others of the same text wait, then reuse it
        if not replay:
            replay.append(start())
        return replay[0].logits_after(fed)


def pipeline_html(model, stages: pipeline.Stages, drawn: str, position: int, request) -> str:
    return attention_views.pipeline_view(model.vocab.chars, stages.logits, stages.probs, drawn, position,
                                         request.temperature, request.top_k, request.top_p)


def explain_generated(store: ModelStore, run: Optional[dict], text, tokens: Optional[List[list]], position, layer,
                      head, temperature, top_k, top_p, session=None) -> tuple:
    """explain() for generated character `position` of the last finished run (its family and model,
    whatever the pickers say now); the empty views while there is none."""
    if not tokens or not run or not isinstance(text, str) or len(text) < len(tokens):
        return ATTENTION_EMPTY, PIPELINE_EMPTY
    position = check_value("position", position, int, 1, len(tokens))
    prompt_chars = len(text) - len(tokens)
    return _explained(store, run["family"], run["choice"], text, prompt_chars + position, layer, head, temperature,
                      top_k, top_p, prompt_chars, session, shown_position=position)


def zoomed(event: gr.EventData) -> tuple:
    """A click on a small multiple (its script sends layer and head): show that map large."""
    data = event._data if isinstance(event._data, dict) else {}
    picked = [data.get("layer"), data.get("head")]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in picked):
        raise RequestError(f"a click on the attention maps must name a layer and a head, got {data!r}")
    return check_value("layer", picked[0], int, 0, MAX_LAYERS), check_value("head", picked[1], int, 0, MAX_HEADS)


@dataclass
class InsideView:
    attention: gr.HTML
    pipeline: gr.HTML
    layer: gr.Number  # hidden: the large map's layer and head (0: average), set by clicks on the maps
    head: gr.Number
    text_position: gr.Number  # hidden: the endpoint's position in the whole text (the UI counts generated ones)
    prompt_chars: gr.Number  # hidden: the endpoint's prompt length


def build_view() -> InsideView:
    attention_html = gr.HTML(ATTENTION_EMPTY, label=ATTENTION_LABEL, show_label=True, container=True,
                             js_on_load=attention_views.ATTENTION_JS, max_height=2400, elem_id="text-attention")
    pipeline_view = gr.HTML(PIPELINE_EMPTY, label=PIPELINE_LABEL, show_label=True, container=True,
                            max_height=1200, elem_id="text-pipeline")
    hidden = dict(precision=0, visible=False)
    return InsideView(attention_html, pipeline_view, gr.Number(0, label="layer", **hidden),
                      gr.Number(0, label="head", **hidden), gr.Number(1, label="position in the text", **hidden),
                      gr.Number(MAX_TEXT_CHARS, label="prompt characters", **hidden))


def wire(inside: InsideView, store: ModelStore, *, family, model, text, knobs: list, session, tokens, run, position,
         finished_events: list) -> None:
    """Events: a finished run, a picked character or a moved knob redraw both views; `text_attention`
    is the public endpoint (text, position in it, layer, head, the knobs and the prompt's length)."""
    lane = store.lane("text")  # replaying generation up to a picked character is one model call per character
    outputs = [inside.attention, inside.pipeline]
    ui_inputs = [run, text, tokens, position, inside.layer, inside.head, *knobs, session]
    redraw = handler(explain_generated, store, gpu_seconds=TEXT_GPU_SECONDS)
    for event in finished_events:
        event.success(redraw, ui_inputs, outputs, api_visibility="private", **lane)
    gr.on([position.input, *(k.input for k in knobs)], redraw, ui_inputs, outputs, api_visibility="private",
          trigger_mode="always_last", **lane)
    inside.attention.select(handler(zoomed), None, [inside.layer, inside.head], api_visibility="private",
                            queue=False).success(redraw, ui_inputs, outputs, api_visibility="private", **lane)
    gr.on([], handler(explain, store, gpu_seconds=TEXT_GPU_SECONDS),
          [family, model, text, inside.text_position, inside.layer, inside.head, *knobs, inside.prompt_chars, session],
          outputs, api_name="text_attention", **lane)
