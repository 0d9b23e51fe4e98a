"""Text families: vocabulary, corpus handling, the KV cache, sampling filters and generation."""

import math

import pytest
import torch

from genlab.data import corpus, datasets
from genlab.data.download import DataError
from genlab.eval import text_metrics
from genlab.models.text import generation
from genlab.params import RequestError
from genlab.registry import FAMILIES, TEXT_FAMILIES

from conftest import TEXT, tiny


def test_text_families_are_registered():
    assert {"gpt", "lstm"} <= set(TEXT_FAMILIES)


def test_vocab_round_trips_and_names_unknown_characters():
    vocab = corpus.CharVocab.of(TEXT)
    assert vocab.decode(vocab.encode(TEXT)) == TEXT
    with pytest.raises(ValueError, match=r"2 character\(s\).*'é' '€'"):
        vocab.encode("café €")


def test_split_is_first_90_percent_and_last_10_percent():
    train, test = corpus.split(TEXT, "train", "t"), corpus.split(TEXT, "test", "t")
    assert train.text + test.text == TEXT
    assert len(train) == int(len(TEXT) * 0.9)
    assert train.vocab.chars == test.vocab.chars == corpus.CharVocab.of(TEXT).chars


@pytest.mark.parametrize("raw, message", [
    (b"", "at least 200"), (b"ab\x00cd" * 100, "binary"), (b"\xff\xfe" + b"a" * 300, "not UTF-8"),
])
def test_uploads_that_cannot_train_get_clear_errors(raw, message):
    with pytest.raises(DataError, match=message):
        corpus.decode_upload(raw, "your text")


def test_missing_corpus_names_the_places_tried(monkeypatch, tmp_path):
    monkeypatch.delenv("GENLAB_TEXT_PATH", raising=False)
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "mnist"))
    with pytest.raises(DataError, match="tiny-shakespeare not found.*GENLAB_TEXT_PATH"):
        corpus.load_shakespeare(download=False)


def test_a_file_that_is_not_tiny_shakespeare_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "input.txt"
    fake.write_text(TEXT)
    monkeypatch.setenv("GENLAB_TEXT_PATH", str(fake))
    with pytest.raises(DataError, match="SHA-256"):
        corpus.load_shakespeare(download=False)


def test_text_batches_are_windows_of_the_model_context_and_resume_exactly():
    model = tiny(FAMILIES["gpt"])
    text = corpus.split(TEXT, "train", "t")
    stream = datasets.DATASETS["text"].batches(text, 4, seed=3, **model.batch_options())
    first, second = next(stream), next(stream)
    assert first.shape == (4, model.context + 1) and first.dtype == torch.long
    resumed = datasets.DATASETS["text"].batches(text, 4, seed=3, skip=1, **model.batch_options())
    assert torch.equal(next(resumed), second)
    decoded = model.vocab.decode(first[0])
    assert decoded in text.text


@pytest.mark.parametrize("length", [5, 16, 40])  # inside, at and far beyond the context of 16
def test_kv_cache_gives_the_logits_of_a_full_forward_pass(length):
    model = tiny(FAMILIES["gpt"]).eval()
    ids = torch.randint(0, len(model.vocab), (1, length), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        logits, state = model.begin(ids[:, :3])
        for t in range(3, length):
            logits, state = model.advance(state, int(ids[0, t]))
        full = model(ids[:, -model.context:])[0][0, -1]
    torch.testing.assert_close(logits, full, rtol=1e-4, atol=1e-5)


def test_the_decoding_fast_path_is_forward_step_for_step():
    import copy
    model = tiny(FAMILIES["gpt"]).eval()
    ids = torch.randint(0, len(model.vocab), (1, 40), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        _, fast = model.begin(ids[:, :3])
        slow = copy.deepcopy(fast)
        for t in range(3, 40):  # past the context of 16: the ring buffer wraps
            token = int(ids[0, t])
            expected = model(ids[:, t:t + 1], slow)[0][0, -1]
            # the same arithmetic rearranged (genlab.models.text.decode): equal up to float rounding
            torch.testing.assert_close(model.advance(fast, token)[0], expected, rtol=1e-5, atol=1e-6)
    assert (fast.position, fast.slot, fast.filled) == (slow.position, slow.slot, slow.filled)
    torch.testing.assert_close(fast.k, slow.k, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast.v, slow.v, rtol=1e-5, atol=1e-6)


def test_rope_tables_grown_while_decoding_serve_concurrent_decoders_and_training():
    import threading
    model = tiny(FAMILIES["gpt"]).eval()
    request = generation.text_request("", 300, 0.8, seed=4)  # 300 positions: the tables grow past 256
    alone = generation.generate_text(model, request)
    fresh = tiny(FAMILIES["gpt"]).eval()
    fresh.load_state_dict(model.state_dict())
    texts = []
    threads = [threading.Thread(target=lambda: texts.append(generation.generate_text(fresh, request)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert texts == [alone] * 4
    fresh.train()  # tables built under inference_mode must still work with autograd
    fresh.loss(torch.randint(0, len(fresh.vocab), (2, fresh.context + 1)))[0].backward()


def test_shape_distribution_on_a_known_distribution():
    probs = torch.tensor([0.5, 0.25, 0.15, 0.1])
    logits = probs.log()
    torch.testing.assert_close(generation.shape_distribution(logits, 1.0), probs)
    assert generation.shape_distribution(logits, 0.0).tolist() == [1.0, 0.0, 0.0, 0.0]
    torch.testing.assert_close(generation.shape_distribution(logits, 1.0, top_k=2), torch.tensor([2 / 3, 1 / 3, 0, 0]))
    # top-p 0.7: 0.5 alone is short of 0.7, 0.5 + 0.25 reaches it; the rest is cut
    torch.testing.assert_close(generation.shape_distribution(logits, 1.0, top_p=0.7), torch.tensor([2 / 3, 1 / 3, 0, 0]))
    torch.testing.assert_close(generation.shape_distribution(logits, 1.0, top_p=0.4), torch.tensor([1.0, 0, 0, 0]))
    hot = generation.shape_distribution(logits, 2.0)  # temperature 2: p ∝ sqrt(p)
    torch.testing.assert_close(hot, probs.sqrt() / probs.sqrt().sum())
    cold = generation.shape_distribution(logits, 0.5)  # temperature 1/2: p ∝ p^2
    torch.testing.assert_close(cold, probs ** 2 / (probs ** 2).sum())


@pytest.mark.parametrize("name", TEXT_FAMILIES)
def test_generation_is_seeded_in_vocabulary_and_reports_probabilities(name):
    model = tiny(FAMILIES[name]).eval()
    request = generation.text_request("KEEPER:", 30, 0.8, 10, 0.95, seed=7)
    tokens = list(generation.generate(model, request))
    text = "".join(t.char for t in tokens)
    assert len(text) == 30 and not model.vocab.unknown(text)
    assert text == generation.generate_text(model, request)
    assert text != generation.generate_text(model, generation.text_request("KEEPER:", 30, 0.8, 10, 0.95, seed=8))
    for token in tokens:
        assert 0 < token.prob <= 1 and len(token.alternatives) == 5
        assert sum(p for _, p in token.alternatives) <= 1 + 1e-6
        assert token.alternatives[0][1] >= token.alternatives[-1][1]


def test_greedy_generation_follows_the_most_likely_character():
    model = tiny(FAMILIES["gpt"]).eval()
    tokens = list(generation.generate(model, generation.text_request("", 10, 0.0, seed=1)))
    assert all(t.char == t.alternatives[0][0] for t in tokens)
    other_seed = generation.generate_text(model, generation.text_request("", 10, 0.0, seed=2))
    assert "".join(t.char for t in tokens) == other_seed


def test_no_cache_path_generates_the_same_text():
    model = tiny(FAMILIES["gpt"]).eval()
    request = generation.text_request("TRAVELLER:", 40, 1.0, seed=0)
    assert generation.generate_text(model, request) == generation.generate_text(model, request, use_cache=False)


def test_bad_requests_are_refused_before_model_work():
    with pytest.raises(RequestError, match="at most 2000 characters"):
        generation.text_request("x" * 1_000_000, 10)
    with pytest.raises(RequestError, match="number of characters must be from 1 to 2000"):
        generation.text_request("hi", 10_000)
    with pytest.raises(RequestError, match="temperature"):
        generation.text_request("hi", 10, -1)
    model = tiny(FAMILIES["lstm"])
    with pytest.raises(RequestError, match=r"2 character\(s\) this model does not know: '\{' '~'"):
        list(generation.generate(model, generation.text_request("a{b~", 5)))


def test_sliding_loss_scores_every_character_once_and_matches_a_direct_computation():
    model = tiny(FAMILIES["lstm"]).eval()
    ids = model.vocab.encode(TEXT[:200])
    loss, count = text_metrics.sliding_loss(model, ids, model.context)
    assert count == len(ids) - 1
    # a uniform model would score ln(V): ours is a finite number near it (untrained)
    assert math.isfinite(loss) and abs(loss - math.log(len(model.vocab))) < 1.0
    window = ids[:model.context + 1]
    first_window = text_metrics._window_nll(model, ids, [0], model.context)[0]
    with torch.inference_mode():
        direct = torch.nn.functional.cross_entropy(model(window[None, :-1])[0][0], window[1:], reduction="none")
    torch.testing.assert_close(first_window, direct)


def test_text_evaluation_reports_nats_and_bits():
    family = FAMILIES["gpt"]
    model = tiny(family).eval()
    result = text_metrics.evaluate_text(family, model, text=corpus.split(TEXT, "test", "t"), progress=lambda m: None)
    summary = result["summary"]
    assert summary["val bits/char"] == pytest.approx(summary["val loss (nats/char)"] / math.log(2), abs=1e-3)
    assert summary["parameters"] == sum(p.numel() for p in model.parameters())


def test_download_is_verified_then_cached_and_a_bad_one_leaves_nothing(monkeypatch, tmp_path):
    import hashlib
    monkeypatch.delenv("GENLAB_TEXT_PATH", raising=False)
    monkeypatch.delenv("GENLAB_DATA_DIR", raising=False)
    served = tmp_path / "input.txt"
    served.write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(corpus, "TINY_SHAKESPEARE_URL", served.as_uri())
    with pytest.raises(DataError, match="download from .*SHA-256 mismatch"):
        corpus.load_shakespeare()
    assert not any(corpus.text_cache().parent.glob("*"))  # the rejected download was not kept
    monkeypatch.setattr(corpus, "TINY_SHAKESPEARE_SHA256", hashlib.sha256(TEXT.encode()).hexdigest())
    assert corpus.load_shakespeare() == TEXT
    assert corpus.text_cache().read_text(encoding="utf-8") == TEXT
    served.unlink()
    assert corpus.load_shakespeare(download=False) == TEXT  # from the cache now
