"""Attention weights re-derived from a GPT's own modules, and the sampling pipeline's stages."""

import pytest
import torch

from genlab import weights
from genlab.models.text import attention, generation, pipeline
from genlab.registry import FAMILIES

from conftest import tiny


def sharp_gpt(seed=0):
    """A tiny GPT with weights large enough that its heads attend unevenly (an untrained one is nearly uniform)."""
    torch.manual_seed(seed)
    model = weights.build(FAMILIES["gpt"], context=16, n_layer=2, n_head=2, n_embd=16, dropout=0.0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model.eval()


def ids_of(model, text):
    return model.vocab.encode(text)


def fresh_logits(model, ids):
    """Logits (V,) after one fresh read of ids (T,): generation's begin() without its cache."""
    with torch.no_grad():
        return model.begin(ids[None], use_cache=False)[0]


def test_rederived_blocks_match_the_models_forward():
    model = sharp_gpt()
    ids = ids_of(model, "KEEPER: Who goes")  # 16 characters: a full window
    seen = []
    hooks = [b.register_forward_hook(lambda block, args, out: seen.append((block, args, out))) for b in model.blocks]
    with torch.no_grad():
        logits = model(ids[None])[0]
    for h in hooks:
        h.remove()
    for block, (x, rope, *_), out in seen:  # each block from the same input: the same output
        mine, _ = attention.block_with_weights(block, x, rope)
        torch.testing.assert_close(mine, out, atol=1e-5, rtol=0)
    weights_ = attention.attention_weights(model, ids)
    assert weights_.shape == (2, 2, 16, 16) and weights_.dtype == torch.float32
    torch.testing.assert_close(fresh_logits(model, ids), logits[0, -1], atol=1e-5, rtol=0)


def test_every_head_sums_to_one_over_the_past_and_gives_the_future_nothing():
    model = sharp_gpt(1)
    w = attention.attention_weights(model, ids_of(model, "To be, or not"))  # (L, H, T, T)
    t = w.shape[-1]
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    assert torch.all(w[..., future] == 0)  # exactly zero, not merely small
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-6, rtol=0)
    assert torch.all(w >= 0) and w[..., -1, :].std() > 0.01  # the sharpened heads really prefer some keys


def test_attention_refuses_windows_longer_than_the_context():
    model = sharp_gpt()
    with pytest.raises(ValueError, match="1 to 16 ids"):
        attention.attention_weights(model, ids_of(model, "x" * 17))
    assert attention.has_attention(model) and not attention.has_attention(tiny(FAMILIES["lstm"]))


def _generated(model, prompt, settings, monkeypatch, **kwargs):
    """(text, the distributions generation sampled from) for 30 new characters."""
    sampled = []
    real = generation.shape_distribution
    monkeypatch.setattr(generation, "shape_distribution", lambda *a: sampled.append(real(*a)) or sampled[-1])
    request = generation.text_request(prompt, 30, *settings, seed=4)
    text = prompt + generation.generate_text(model, request, **kwargs)
    monkeypatch.setattr(generation, "shape_distribution", real)
    return text, sampled


@pytest.mark.parametrize("name, settings", [("gpt", (1.3, 7, 0.6)), ("gpt", (0.0, 3, 0.5)), ("lstm", (0.7, 10, 0.9))])
def test_the_last_stage_is_what_generation_samples_from(name, settings, monkeypatch):
    model = sharp_gpt() if name == "gpt" else tiny(FAMILIES[name]).eval()
    prompt = "KEEPER:"
    text, sampled = _generated(model, prompt, settings, monkeypatch)  # 37 characters: past a 16-character window
    replay = pipeline.GenerationReplay(model, model.vocab.encode(prompt), model.vocab.encode(text[len(prompt):]))
    for i in (29, 0, 9, 10):  # the last first: the earlier ones are then remembered
        position = len(prompt) + i + 1
        stages = pipeline.stages(replay.logits_after(position - 1 - len(prompt)), *settings)
        torch.testing.assert_close(stages.probs[-1], sampled[i], atol=1e-5, rtol=0)
        assert stages.probs[-1][model.vocab.encode(text[position - 1])] > 0  # the drawn character could be drawn


def test_a_fresh_read_is_what_generation_without_its_cache_samples_from(monkeypatch):
    model, settings = sharp_gpt(2), (0.9, 0, 0.95)
    text, sampled = _generated(model, "KEEPER:", settings, monkeypatch, use_cache=False)
    for i in (0, 20, 29):
        ids = model.vocab.encode(text[:len("KEEPER:") + i])
        torch.testing.assert_close(pipeline.stages(fresh_logits(model, ids), *settings).probs[-1], sampled[i],
                                   atol=1e-5, rtol=0)
    # past the window the cache remembers more than a fresh read: generation's own two ways part
    cached = pipeline.GenerationReplay(model, model.vocab.encode("KEEPER:"), model.vocab.encode(text[7:])).logits_after(29)
    assert (cached - fresh_logits(model, model.vocab.encode(text[:36]))).abs().max() > 1e-3


def test_stages_apply_one_setting_each():
    logits = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0])
    probs = pipeline.stages(logits, 0.5, 3, 0.9).probs
    torch.testing.assert_close(probs[0], torch.softmax(logits, 0))
    torch.testing.assert_close(probs[1], torch.softmax(logits / 0.5, 0))
    assert (probs[2] > 0).tolist() == [True, True, True, False, False]
    assert (probs[3] > 0).tolist() == [True, True, False, False, False]  # 0.867 of the mass before the second, 0.984 before the third
    torch.testing.assert_close(probs.sum(1), torch.ones(4))
    greedy = pipeline.stages(logits, 0.0).probs
    assert greedy[1:, 0].tolist() == [1.0, 1.0, 1.0]


def test_a_replay_refuses_steps_past_its_text():
    model = sharp_gpt()
    replay = pipeline.GenerationReplay(model, model.vocab.encode("AB"), model.vocab.encode("CD"))
    assert replay.logits_after(2).shape == (len(model.vocab),) and len(replay.logits) == 3
    with pytest.raises(ValueError, match="n must be from 0 to 2"):
        replay.logits_after(3)
