"""The Text tab: handlers with tiny models, then the running app through gradio_client."""

import html
import re
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from gradio_client import Client

from genlab import weights
from genlab.params import RequestError
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui.tabs import text as text_tab
from genlab.ui.tabs import text_inside

from conftest import no_model_work, tiny


class TinyStore:
    """Tiny untrained text models; fails loudly when a handler loads a model for a bad request."""

    def __init__(self, allow: bool = True):
        self.allow, self.models = allow, {}

    def choose(self, name, choice, session):
        assert self.allow, f"model {name!r} was loaded for an invalid request"
        if name not in self.models:
            self.models[name] = tiny(FAMILIES[name]).eval()
        return self.models[name]


def run(store, *args):
    return list(text_tab.stream_text(store, *args))


SKIP = gr.skip()


def view_chars(view: str) -> str:
    """The characters of a token view, in order, as a browser shows them."""
    return "".join(html.unescape(c) for c in re.findall(r'<span data-i="\d+"[^>]*>(.*?)</span>', view, re.S))


@pytest.mark.parametrize("name", TEXT_FAMILIES)
def test_frames_send_only_the_growing_text_and_the_end_sends_everything(name, monkeypatch):
    monkeypatch.setattr(text_tab, "FRAME_SECONDS", 0.0)  # send every character
    frames = run(TinyStore(), name, "pretrained", "KEEPER:", 50, 0.8, 0, 1.0, 3)
    texts = [f[0] for f in frames]
    assert len(frames) == 52 and texts[-1] == texts[-2] == texts[-3]  # a frame per character, the text, the rest
    assert all(len(b) == len(a) + 1 and b.startswith(a) for a, b in zip(texts[:-2], texts[1:-2]))
    first = frames[0]
    assert "Generating 50 characters" in first[1]
    assert first[5] == {"prompt_chars": 7, "n_chars": 50, "family": name, "choice": "pretrained"}
    assert first[3] == [] and first[4].interactive is False  # the last run's tokens go with the first frame
    assert all(f[1:] == (SKIP,) * 5 for f in frames[1:-1])  # no status, view or tokens while it streams
    text, status, view, tokens, position, done = frames[-1]
    assert text.startswith("KEEPER:") and len(text) == len("KEEPER:") + 50
    assert "characters/s" in status and done == SKIP
    assert view_chars(view) == text[len("KEEPER:"):] and len(tokens) == 50
    assert position.maximum == 50 and position.interactive is True
    again = run(TinyStore(), name, "pretrained", "KEEPER:", 50, 0.8, 0, 1.0, 3)[-1][0]
    assert again == text


def test_token_view_is_running_text_with_line_breaks_tints_and_escapes():
    tokens = [["<", 0.9, []], ["\n", 0.25, []], ["{", 1.0, []], ["&", 0.5, []], ["$", 0.0, []]]
    view = text_tab.token_view(tokens)
    spans = re.findall(r'<span data-i="(\d+)"( class="[^"]*")? style="--surprise:([\d.]+)">(.*?)</span>', view, re.S)
    assert [int(i) for i, *_ in spans] == [0, 1, 2, 3, 4]
    assert [float(s) for _, _, s, _ in spans] == [0.1, 0.75, 0.0, 0.5, 1.0]  # 1 - p
    assert [c for *_, c in spans] == ["&lt;", "\n", "&#123;", "&amp;", "&#36;"]  # nothing a template or markup reads
    assert "picked" in spans[0][1] and "newline" in spans[1][1] and not spans[2][1]
    assert view_chars(view) == "<\n{&$"


def test_alternatives_mark_the_drawn_character_even_outside_the_top_five():
    alternatives = [("a", 0.5), ("b", 0.2), ("c", 0.1), ("d", 0.05), ("e", 0.04)]
    summary, table = text_tab.alternatives_at([["b", 0.2, alternatives], ["z", 0.01, alternatives]], 1)
    assert list(table["pick"]) == ["alternative", "drawn", "alternative", "alternative", "alternative"]
    assert "choice no. 2" in summary
    summary, table = text_tab.alternatives_at([["b", 0.2, alternatives], ["z", 0.01, alternatives]], 2)
    assert len(table) == 6 and table.iloc[-1].tolist() == ["drawn: z", 0.01, "drawn"]
    assert "not in its top 5" in summary and table["probability"].is_monotonic_decreasing


def test_a_click_on_the_token_view_picks_that_character():
    tokens = run(TinyStore(), "gpt", "pretrained", "A", 12, 1.0, 0, 1.0, 5)[-1][3]
    summary, table, position = text_tab.clicked(tokens, gr.EventData(None, {"index": 3}))
    assert position == 4 and "Character 4" in summary and len(table) >= 5
    for bad in ({"index": "3"}, {"index": True}, {}, None):
        with pytest.raises(RequestError, match="must name a character"):
            text_tab.clicked(tokens, gr.EventData(None, bad))
    with pytest.raises(RequestError, match="position must be from 1 to 12"):
        text_tab.clicked(tokens, gr.EventData(None, {"index": 12}))


def test_a_run_that_ends_early_says_why_and_keeps_nothing_of_an_earlier_run():
    run_info = {"prompt_chars": 6, "n_chars": 300}

    def status(text, shown, run_info):
        said, tokens, position = text_tab.ended_early(text, shown, run_info)
        assert tokens == [] and position.interactive is False and position.value == 1
        return said

    assert status("ROMEO:" + "x" * 120, text_tab.STOPPING, run_info) == (
        "Stopped at 120 of 300 characters (the token view needs a finished run).")
    assert status("", text_tab.STOPPING, run_info) == "Stopped before the first character."  # an earlier run's info
    assert status("", text_tab.STOPPING, None) == "Stopped before the first character."
    assert "refused" in status("", text_tab.STARTING, None)
    assert status("ROMEO:xx", "Failed after 2 of 300 characters.", run_info) == SKIP


def test_an_error_while_streaming_leaves_no_generating_status(monkeypatch):
    real = text_tab.generation.generate

    def failing(model, request):
        for i, token in enumerate(real(model, request)):
            if i == 5:
                raise RequestError("the model broke")
            yield token

    monkeypatch.setattr(text_tab.generation, "generate", failing)
    frames = []
    with pytest.raises(RequestError, match="the model broke"):
        for frame in text_tab.stream_text(TinyStore(), "gpt", "pretrained", "A", 40, 1.0, 0, 1.0, 0):
            frames.append(frame)
    assert frames[-1][1] == "Failed after 5 of 40 characters." and len(frames[-1][0]) == 6


@pytest.mark.parametrize("args, message", [
    (("gpt", "pretrained", "x" * 3000, 10, 1, 0, 1, 0), "at most 2000 characters"),
    (("gpt", "pretrained", "hi", 5000, 1, 0, 1, 0), "from 1 to 2000"),
    (("gpt", "pretrained", "hi", 10, 9, 0, 1, 0), "temperature"),
    (("gan", "pretrained", "hi", 10, 1, 0, 1, 0), "model family must be one of"),
])
def test_bad_requests_are_refused_before_any_model_work(args, message):
    with pytest.raises(RequestError, match=message):
        run(TinyStore(allow=False), *args)


def test_prompt_with_unknown_characters_lists_them():
    with pytest.raises(RequestError, match=r"does not know: '«' '»'"):
        run(TinyStore(), "lstm", "pretrained", "«Hello»", 10, 1, 0, 1, 0)


def test_empty_prompt_starts_from_a_newline():
    text = run(TinyStore(), "gpt", "pretrained", "", 20, 1, 0, 1, 0)[-1][0]
    assert len(text) == 20


def test_alternatives_show_the_top_five_at_a_position():
    tokens = run(TinyStore(), "gpt", "pretrained", "A", 12, 1.0, 0, 1.0, 5)[-1][3]
    summary, table = text_tab.alternatives_at(tokens, 4)
    assert isinstance(table, pd.DataFrame) and len(table) in (5, 6)  # a sixth row: the drawn one, outside the top 5
    assert table["probability"].is_monotonic_decreasing and "Character 4" in summary
    assert (table["pick"] == "drawn").sum() == 1
    with pytest.raises(RequestError, match="position must be from 1 to 12"):
        text_tab.alternatives_at(tokens, 13)
    with pytest.raises(RequestError, match="generate some text first"):
        text_tab.alternatives_at([], 1)


def test_sweep_uses_one_seed_at_three_temperatures():
    store = TinyStore()
    cold, mid, hot = text_tab.temperature_sweep(store, "gpt", "pretrained", "KEEPER:", 40, 0.0, 1.0, 3.0, 0, 1.0, 9)
    assert all(t.startswith("KEEPER:") and len(t) == 47 for t in (cold, mid, hot))
    assert len({cold, mid, hot}) == 3
    assert (cold, mid, hot) == text_tab.temperature_sweep(store, "gpt", "pretrained", "KEEPER:", 40, 0.0, 1.0, 3.0,
                                                         0, 1.0, 9)
    with pytest.raises(RequestError, match="sweep length"):
        text_tab.temperature_sweep(TinyStore(allow=False), "gpt", "pretrained", "a", 501, 0, 1, 2, 0, 1, 0)


@pytest.mark.parametrize("name", TEXT_FAMILIES)
def test_client_streams_shipped_model_text_in_vocabulary(server, name):
    client = Client(server, verbose=False)
    args = (name, "pretrained", "ROMEO:", 200, 0.8, 0, 1.0, 0)
    job = client.submit(*args, api_name="/text_generate")
    updates = list(job)
    text = job.result()[0]
    assert text.startswith("ROMEO:") and len(text) == 206 and updates
    assert not weights.load(FAMILIES[name]).vocab.unknown(text)
    assert client.predict(*args, api_name="/text_generate")[0] == text  # same seed, same text


def test_every_text_endpoint_names_its_parameters_and_outputs(server):
    api = Client(server, verbose=False).view_api(return_format="dict", print_info=False)["named_endpoints"]
    choice = ["family_name", "choice", "prompt", "n_chars"]
    knobs = ["top_k", "top_p", "seed"]
    expected = {
        "/text_generate": (choice + ["temperature"] + knobs,
                           ["Generated text", "Status", text_tab.VIEW_LABEL, "Position"]),
        "/text_alternatives": (["position"], ["The character at that position", text_tab.TOP5_LABEL]),
        "/text_sweep": (choice + ["t1", "t2", "t3"] + knobs, ["Temperature 1", "Temperature 2", "Temperature 3"]),
    }
    for name, (parameters, outputs) in expected.items():
        endpoint = api[name]
        assert [p["parameter_name"] for p in endpoint["parameters"]] == parameters, name
        assert all(p["parameter_has_default"] for p in endpoint["parameters"]), name  # all optional for a client
        assert [r["label"] for r in endpoint["returns"]] == outputs, name


def test_typing_a_position_asks_the_queued_public_endpoint(server):
    config = Client(server, verbose=False).config
    position = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "text-position")
    endpoint = next(d for d in config["dependencies"] if d.get("api_name") == "text_alternatives")
    assert [position, "input"] in endpoint["targets"]  # the number box and the drag both fire .input
    assert endpoint["queue"] and endpoint["api_visibility"] == "public"


def test_client_reads_the_alternatives_of_its_own_run(server):
    client = Client(server, verbose=False)
    text, status, view, position = client.predict("gpt", "pretrained", "ROMEO:", 30, 0.8, 0, 1.0, 0,
                                                  api_name="/text_generate")
    assert "characters/s" in status and position["maximum"] == 30 and 'data-i="29"' in view
    summary, table = client.predict(5, api_name="/text_alternatives")
    assert summary.startswith("Character 5:") and table["columns"] == ["character", "probability", "pick"]
    assert [row[2] for row in table["data"]].count("drawn") == 1


def test_the_explainer_writes_temperature_correctly_and_matches_the_shipped_models():
    doc = (Path(text_tab.__file__).parent.parent / "docs" / "text.md").read_text(encoding="utf-8")
    assert r"p_i \propto p_i^{1/T}" not in doc and r"p'_i \propto \exp(z_i / T)" in doc
    for name in TEXT_FAMILIES:
        model = weights.load(FAMILIES[name])
        assert f"{len(model.vocab)} for the shipped models" in doc
    assert f"window ({weights.load(FAMILIES['gpt']).config.context} characters)" in doc


def _explain(store, *args, **knobs):
    settings = {"layer": 0, "head": 0, "temperature": 0.8, "top_k": 0, "top_p": 1.0, **knobs}
    return text_inside.explain(store, *args, *settings.values())


def test_a_picked_gpt_character_shows_every_head_and_the_four_stages():
    frames = run(TinyStore(), "gpt", "pretrained", "KEEPER:", 30, 1.0, 0, 1.0, 2)
    text, tokens, run_info = frames[-1][0], frames[-1][3], frames[0][5]
    attention_html, pipeline_html = text_inside.explain_generated(TinyStore(), run_info, text, tokens, 12, 1, 2,
                                                                  0.8, 5, 0.9)
    assert "Writing character 12" in attention_html and "layer 1, head 2" in attention_html  # generated ones counted
    assert len(re.findall('class="attn-map( chosen)?"', attention_html)) == 1 + 1 * 3  # all, then layer 1's average and its 2 heads
    assert attention_html.count('class="attn-next"') == 1 + 4  # the large map and each small one
    assert pipeline_html.count('class="pipe-stage"') == 4 and "top-k 5" in pipeline_html
    assert pipeline_html.count("pipe-row drawn") == 4 and f"Character 12, <b>“{text[18]}”" in pipeline_html
    assert "5 of 65 characters can be drawn" in pipeline_html
    assert text_inside.explain_generated(TinyStore(allow=False), run_info, text, [], 1, 0, 0, 1, 0, 1) == (
        text_inside.ATTENTION_EMPTY, text_inside.PIPELINE_EMPTY)  # nothing generated: nothing to explain


def test_the_lstm_says_plainly_it_has_no_attention_and_still_shows_the_pipeline():
    attention_html, pipeline_html = _explain(TinyStore(), "lstm", "pretrained", "KEEPER: Who", 9)
    assert "has no attention" in attention_html and "attn-map" not in attention_html
    assert pipeline_html.count('class="pipe-stage"') == 4 and "Character 9, <b>“W”" in pipeline_html


@pytest.mark.parametrize("args, knobs, message", [
    (("gpt", "pretrained", "x" * 4001, 3), {}, "at most 4000 characters"),
    (("gpt", "pretrained", "", 1), {}, "text must be a non-empty string"),
    (("gpt", "pretrained", "hello", 6), {}, "position must be from 1 to 5"),
    (("gpt", "pretrained", "hello", 0), {}, "position must be from 1 to 5"),
    (("gpt", "pretrained", "hello", 2), {"layer": 25}, "layer must be from 0 to 24"),
    (("gpt", "pretrained", "hello", 2), {"head": -1}, "head must be from 0 to 32"),
    (("gpt", "pretrained", "hello", 2), {"temperature": 9}, "temperature must be from 0 to 5"),
    (("gpt", "pretrained", "hello", 2), {"top_p": 0}, "top-p must be from 0.01 to 1"),
    (("judge", "pretrained", "hello", 2), {}, "model family must be one of"),
])
def test_explain_refuses_bad_requests_before_choosing_a_model(args, knobs, message):
    with pytest.raises(RequestError, match=message):
        _explain(TinyStore(allow=False), *args, **knobs)


def test_explain_checks_the_layer_and_head_against_the_model_before_its_forward_pass():
    store = TinyStore()
    store.choose("gpt", "pretrained", None)  # the tiny GPT: 1 layer, 2 heads
    with no_model_work() as work:
        for knobs, message in (({"layer": 2}, "layer must be from 0 to 1"), ({"layer": 1, "head": 3},
                               "head must be from 0 to 2"), ({"head": 1}, "head needs a layer")):
            with pytest.raises(RequestError, match=message):
                _explain(store, "gpt", "pretrained", "hello", 3, **knobs)
        with pytest.raises(RequestError, match="does not know: '«'"):
            _explain(store, "gpt", "pretrained", "«hello", 3)
    assert work["forward calls"] == 0


def test_a_click_on_a_small_map_picks_its_layer_and_head():
    assert text_inside.zoomed(gr.EventData(None, {"layer": 2, "head": 3})) == (2, 3)
    for bad in ({"layer": "2", "head": 1}, {"layer": True, "head": 0}, {}, None):
        with pytest.raises(RequestError, match="must name a layer and a head"):
            text_inside.zoomed(gr.EventData(None, bad))
    with pytest.raises(RequestError, match="layer must be from 0 to 24"):
        text_inside.zoomed(gr.EventData(None, {"layer": 99, "head": 0}))


def test_client_asks_text_attention_for_any_text(server):
    client = Client(server, verbose=False)
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/text_attention"]
    assert [p["parameter_name"] for p in api["parameters"]] == [
        "family_name", "choice", "text", "position", "layer", "head", "temperature", "top_k", "top_p", "prompt_chars"]
    attention_html, pipeline_html = client.predict("gpt", "pretrained", "ROMEO:\nWhat say you?", 10, 4, 1, 0.8, 0,
                                                   1.0, api_name="/text_attention")
    assert "layer 4, head 1" in attention_html and "the 9 characters before it" in attention_html
    assert "Character 10, <b>“a”" in pipeline_html
    with pytest.raises(Exception, match="layer must be from 0 to 4"):
        client.predict("gpt", "pretrained", "ROMEO:", 3, 5, 0, 0.8, 0, 1.0, api_name="/text_attention")


@pytest.mark.parametrize("prompt", ["KEEPER:", ""])  # "": generation starts from a newline the text lacks
def test_the_pipeline_agrees_with_the_token_view_past_the_models_window(prompt):
    store = TinyStore()  # the tiny GPT reads 16 characters: 40 new ones go well past them
    frames = run(store, "gpt", "pretrained", prompt, 40, 1.0, 0, 1.0, 6)
    text, tokens, run_info = frames[-1][0], frames[-1][3], frames[0][5]
    for position in (1, 20, 40):
        pipeline_html = text_inside.explain_generated(store, run_info, text, tokens, position, 0, 0, 1.0, 0, 1.0)[1]
        said = re.search(r"had ([\d.]+)% from the model", pipeline_html).group(1)
        assert said == f"{100 * tokens[position - 1][1]:.1f}", position
