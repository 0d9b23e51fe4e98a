"""The Text tab: handlers with tiny models, then the running app through gradio_client."""

import pandas as pd
import pytest
from gradio_client import Client

from genlab import weights
from genlab.params import RequestError
from genlab.registry import FAMILIES, TEXT_FAMILIES
from genlab.ui.tabs import text as text_tab

from conftest import tiny


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


@pytest.mark.parametrize("name", TEXT_FAMILIES)
def test_stream_grows_and_ends_with_the_full_text_and_token_view(name, monkeypatch):
    monkeypatch.setattr(text_tab, "STREAM_SECONDS", 0.0)  # send every character
    frames = run(TinyStore(), name, "pretrained", "KEEPER:", 50, 0.8, 0, 1.0, 3)
    texts = [f[0] for f in frames]
    assert len(frames) == 51 and texts[-1] == texts[-2]  # one frame per character, then the complete one
    assert all(len(b) == len(a) + 1 and b.startswith(a) for a, b in zip(texts[:-1], texts[1:-1]))
    text, status, view, tokens, _ = frames[-1]
    assert text.startswith("KEEPER:") and len(text) == len("KEEPER:") + 50
    assert "characters/s" in status
    assert "".join(c for c, _ in view) == text[len("KEEPER:"):] and all(0 <= s <= 1 for _, s in view)
    again = run(TinyStore(), name, "pretrained", "KEEPER:", 50, 0.8, 0, 1.0, 3)[-1][0]
    assert again == text


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
    assert isinstance(table, pd.DataFrame) and len(table) == 5
    assert table["probability"].is_monotonic_decreasing and "Character 4" in summary
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
