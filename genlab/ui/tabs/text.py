"""The Text tab: stream characters from a char-level GPT or LSTM, see what the model thought of each."""

import json
import time
from typing import List, Optional

import gradio as gr
import pandas as pd

from genlab.models.text import generation
from genlab.params import RequestError, check_value
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui import attention_views, docs, forms
from genlab.ui.gpu import TEXT_GPU_SECONDS
from genlab.ui.handlers import handler
from genlab.ui.store import PRETRAINED, ModelStore
from genlab.ui.tabs import text_inside

# at most this often the growing text is sent: every frame re-renders the box in the browser, and on
# a busy CPU the page's rendering takes time from the model (benchmarks/text_browser_speed.py)
FRAME_SECONDS = 0.1
SWEEP_MAX_CHARS = 500  # the sweep makes three texts: keep it quick
STARTING, STOPPING = "Starting…", "Stopping…"  # the status before the first character, and after Stop
VIEW_EMPTY = '<p class="text-tokens-empty">The token view appears when a run finishes.</p>'
BAR_COLOURS = {"drawn": "#dc2626", "alternative": "#a5b4fc"}
VIEW_LABEL = "Token view: red = the model found it surprising (click a character)"
TOP5_LABEL = "The model's top 5 at that position (red: the character drawn)"

# a click on a character marks it and sends its 0-based index as the view's select event
VIEW_JS = """
element.addEventListener('click', (event) => {
  const span = event.target.closest('span[data-i]');
  if (!span || !element.contains(span)) return;
  element.querySelectorAll('span.picked').forEach((s) => s.classList.remove('picked'));
  span.classList.add('picked');
  trigger('select', {index: Number(span.dataset.i)});
});
"""
# a click on Generate clears the last run's results in the browser at once, before any request:
# (text, status, token view, summary, top-5, position, attention, pipeline, layer, head); the stream's first
# frame, or ended_early, clears the rest
CLEAR_JS = "() => " + json.dumps(["", STARTING, VIEW_EMPTY, "", None, 1, text_inside.ATTENTION_EMPTY,
                                  text_inside.PIPELINE_EMPTY, 0, 0])
# Stop marks a run it stops (the client's cancel then runs the stream's failure listener, ended_early)
STOP_JS = (f"(status) => (status === '{STARTING}' || (status || '').startsWith('Generating')) "
           f"? '{STOPPING}' : status")
# a position typed or dragged marks its character in the view (in the browser, no request)
PICK_JS = """(position) => {
  const view = document.querySelector('#text-tokens');
  const span = view && view.querySelector(`span[data-i="${Math.round(position) - 1}"]`);
  if (!span) return;
  view.querySelectorAll('span.picked').forEach((s) => s.classList.remove('picked'));
  span.classList.add('picked');
  span.scrollIntoView({block: 'nearest'});
}"""


def stream_text(store: ModelStore, family_name, choice, prompt, n_chars, temperature, top_k, top_p, seed,
                session=None):
    """Yield (text, status, token view, tokens, position, run) as characters arrive; the last one is complete.

    Frames carry only the growing text (the first also the status, `run` for the status after Stop,
    and the last run's tokens and position cleared); the token view, tokens and position come once,
    at the end."""
    family_name = check_value("model family", family_name, str, choices=TEXT_FAMILIES)
    request = generation.text_request(prompt, n_chars, temperature, top_k, top_p, seed)  # before any model work
    model = store.choose(family_name, choice, session)
    run = {"prompt_chars": len(request.prompt), "n_chars": request.n_chars, "family": family_name, "choice": choice}
    tokens: List[list] = []
    skip = gr.skip()
    began, last_sent = time.perf_counter(), None
    try:
        for token in generation.generate(model, request):
            tokens.append([token.char, token.prob, token.alternatives])
            now = time.perf_counter()
            if last_sent is None:  # the first character at once
                generating = f"Generating {request.n_chars:,} characters…"
                yield _text(request, tokens), generating, skip, [], _idle_position(), run
                last_sent = now
            elif now - last_sent >= FRAME_SECONDS:
                yield _text(request, tokens), skip, skip, skip, skip, skip
                last_sent = now
    except Exception:  # the error reaches the user as a message; the status must not say "Generating"
        yield _text(request, tokens), f"Failed after {len(tokens)} of {request.n_chars:,} characters.", *[skip] * 4
        raise
    elapsed = time.perf_counter() - began
    text = _text(request, tokens)
    yield text, skip, skip, skip, skip, skip  # the whole text first, before the heavier token view
    status = (f"{len(tokens)} characters in {elapsed:.2f} s ({len(tokens) / max(elapsed, 1e-9):,.0f} characters/s) "
              f"from {FAMILIES[family_name].title}, {choice or PRETRAINED}")
    yield text, status, token_view(tokens), tokens, gr.Slider(1, max(2, len(tokens)), value=1, interactive=True), skip


def _idle_position() -> gr.Slider:
    return gr.Slider(1, 2, value=1, interactive=False)


def _text(request: generation.TextRequest, tokens: List[list]) -> str:
    return request.prompt + "".join(t[0] for t in tokens)


def ended_early(text: Optional[str], status: Optional[str], run: Optional[dict]) -> tuple:
    """(status, tokens, position) once a run ends unfinished: Stop (whose script wrote STOPPING) or a
    refused request; nothing of an earlier run stays.

    It runs after the browser has let go of the stopped stream, so `text` is all that arrived; an
    empty box means no frame came (Generate's script empties it), so `run` may be an earlier run's."""
    status = _early_status(text, status, run)
    return status, [], _idle_position()


def _early_status(text, status, run):
    if status == STOPPING:
        if not text or run is None:
            return "Stopped before the first character."
        done = min(max(0, len(text) - run["prompt_chars"]), run["n_chars"])
        return f"Stopped at {done:,} of {run['n_chars']:,} characters (the token view needs a finished run)."
    if status == STARTING:
        return "Nothing generated: the request was refused (see the message)."
    return gr.skip()  # the stream's own "Failed after N of M characters" stays


def token_view(tokens: List[list]) -> str:
    """The generated characters as running text (HTML for gr.HTML): one span each, tinted by 1 - p (red =
    surprising), newlines as line breaks; the first character starts out picked, as the top-5 does."""
    spans = []
    for i, (char, prob, _) in enumerate(tokens):
        classes = " ".join(c for c, on in (("picked", i == 0), ("newline", char == "\n")) if on)
        marked = f' class="{classes}"' if classes else ""
        spans.append(f'<span data-i="{i}"{marked} style="--surprise:{1.0 - prob:.2f}">'
                     f'{attention_views.escaped(char)}</span>')
    return f'<div class="text-tokens">{"".join(spans)}</div>'


def alternatives_at(tokens: Optional[List[list]], position) -> tuple:
    """What the model thought at generated character `position` (1-based): a summary and a top-5 table
    (character, probability, pick), the drawn character marked "drawn" (added when not in the top 5)."""
    if not tokens:
        raise RequestError("generate some text first")
    position = check_value("position", position, int, 1, len(tokens))
    char, prob, alternatives = tokens[position - 1]
    rows = [(f"{i + 1}. {attention_views.visible(c)}", p, "drawn" if c == char else "alternative")
            for i, (c, p) in enumerate(alternatives)]
    rank = next((i + 1 for i, (c, _) in enumerate(alternatives) if c == char), None)
    if rank is None:
        rows.append((f"drawn: {attention_views.visible(char)}", prob, "drawn"))
    table = pd.DataFrame(rows, columns=["character", "probability", "pick"])
    where = f"its choice no. {rank}" if rank else "not in its top 5"
    summary = f"Character {position}: **{attention_views.visible(char)!r}** had probability **{prob:.1%}** ({where}; the red bar)."
    return summary, table


def clicked(tokens, event: gr.EventData):
    """A click on the token view (its script sends the character's 0-based index): the alternatives there."""
    data = event._data if isinstance(event._data, dict) else {}
    index = data.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise RequestError(f"a click on the token view must name a character, got {index!r}")
    return (*alternatives_at(tokens, index + 1), index + 1)


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
    run = gr.State(None)  # the running request's {prompt_chars, n_chars}, for the status after Stop
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            family = gr.Radio([(FAMILIES[n].title, n) for n in TEXT_FAMILIES], value=TEXT_FAMILIES[0],
                              label="Model family", elem_id="text-family")
            model = forms.model_picker(family, session, store.hub_models, elem_id="text-model")
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
            status = gr.Markdown(label="Status", show_label=False, elem_id="text-status")
            view = gr.HTML(VIEW_EMPTY, label=VIEW_LABEL,
                           show_label=True, container=True, max_height=360, js_on_load=VIEW_JS,
                           elem_id="text-tokens")
            with gr.Row():
                position = gr.Slider(1, 2, value=1, step=1, label="Position", interactive=False,
                                     elem_id="text-position")
                summary = gr.Markdown(label="The character at that position", show_label=False,
                                      elem_id="text-alternative-summary")
            alternatives = gr.BarPlot(x="character", y="probability", color="pick", color_map=BAR_COLOURS,
                                      label=TOP5_LABEL,
                                      y_lim=[0, 1], sort="x", elem_id="text-alternatives", height=220)
    inside = text_inside.build_view()
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

    cleared = [output, status, view, summary, alternatives, position, inside.attention, inside.pipeline, inside.layer,
               inside.head]
    event = go.click(None, None, cleared, js=CLEAR_JS,
                     api_visibility="private").then(
        handler(stream_text, store, gpu_seconds=TEXT_GPU_SECONDS, pacer=shared.pacer),
        [family, model, prompt, n_chars, temperature, top_k, top_p, seed, session],
        [output, status, view, tokens, position, run], api_name="text_generate", **limits)
    stop.click(None, status, status, js=STOP_JS, cancels=[event], api_visibility="private")
    event.failure(ended_early, [output, status, run], [status, tokens, position], queue=False,
                  api_visibility="private")
    event.success(handler(alternatives_at), [tokens, position], [summary, alternatives],
                  api_visibility="private", queue=False)
    # typing in the number box and dragging both fire .input; queued: api_open=False then refuses direct calls
    position.input(handler(alternatives_at), [tokens, position], [summary, alternatives],
                   api_name="text_alternatives", trigger_mode="always_last")
    position.input(None, position, None, js=PICK_JS, api_visibility="private")
    picked = view.select(handler(clicked), tokens, [summary, alternatives, position], api_visibility="private",
                         queue=False)
    text_inside.wire(inside, store, family=family, model=model, text=output, knobs=[temperature, top_k, top_p],
                     session=session, tokens=tokens, run=run, position=position, finished_events=[event, picked])
    sweep.click(handler(temperature_sweep, store, gpu_seconds=TEXT_GPU_SECONDS),
                [family, model, prompt, sweep_chars, *temps, top_k, top_p, seed, session], sweep_out,
                api_name="text_sweep", **limits)
