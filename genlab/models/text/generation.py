"""Sampling text one character at a time from any text family (`begin`/`advance` models).

Each step turns the model's logits into a distribution, reshapes it with temperature, top-k
and top-p (nucleus sampling, Holtzman et al. 2020), and draws from a seeded CPU generator, so
the same seed gives the same text on every device. Every step also reports what the model
itself thought (its untempered probabilities): the token view and the top-5 alternatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, List, Tuple

import torch

from genlab.data.corpus import listing
from genlab.devices import single_threaded
from genlab.models import base
from genlab.params import RequestError, check_seed, check_value

MAX_NEW_CHARS = 2000
MAX_PROMPT_CHARS = 2000
ALTERNATIVES = 5


@dataclass(frozen=True)
class TextRequest:
    prompt: str  # "" starts from a newline
    n_chars: int  # new characters, 1..MAX_NEW_CHARS
    temperature: float  # 0: greedy (always the most likely character)
    top_k: int  # keep the k most likely characters; 0: all
    top_p: float  # keep the smallest set whose probability reaches p; 1: all
    seed: int


def text_request(prompt, n_chars, temperature=1.0, top_k=0, top_p=1.0, seed=0) -> TextRequest:
    """A checked request: RequestError naming any value outside its range, before any model work."""
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise RequestError(f"prompt must be text, got {type(prompt).__name__}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise RequestError(f"prompt must be at most {MAX_PROMPT_CHARS} characters, got {len(prompt):,}")
    return TextRequest(prompt.replace("\r\n", "\n"),
                       check_value("number of characters", n_chars, int, 1, MAX_NEW_CHARS),
                       check_value("temperature", temperature, float, 0.0, 5.0),
                       check_value("top-k", top_k, int, 0, 1000),
                       check_value("top-p", top_p, float, 0.01, 1.0),
                       check_seed(seed))


def check_prompt(vocab, prompt: str) -> torch.Tensor:
    """The prompt's ids (T,); RequestError listing characters the model does not know."""
    missing = vocab.unknown(prompt)
    if missing:
        raise RequestError(f"the prompt has {len(missing)} character(s) this model does not know: "
                           f"{listing(missing)}. It knows {len(vocab)} characters: {vocab.chars!r}")
    if not prompt:  # a newline, as at the start of a speech; for a model whose text had none, its first character
        prompt = "\n" if "\n" in vocab.chars else vocab.chars[0]
    return vocab.encode(prompt)


def shape_distribution(logits: torch.Tensor, temperature: float, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Sampling probabilities (V,) from logits (V,): temperature, then top-k, then top-p."""
    logits = logits.float()
    if temperature == 0:  # greedy: all mass on the first most likely character
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
        return probs
    logits = logits / temperature
    if 0 < top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        before = sorted_probs.cumsum(0) - sorted_probs  # mass of the strictly more likely characters
        drop = order[before >= top_p]  # the most likely character always survives (before = 0)
        probs[drop] = 0.0
        probs = probs / probs.sum()
    return probs


@dataclass(frozen=True)
class Token:
    char: str
    prob: float  # the model's probability of this character (untempered, unfiltered)
    alternatives: List[Tuple[str, float]]  # the model's top-5 (character, probability)


def generate(model, request: TextRequest, *, use_cache: bool = True) -> Iterator[Token]:
    """Yield `request.n_chars` new characters from `model` (in eval mode). Closing the iterator stops it."""
    vocab = model.vocab
    ids = check_prompt(vocab, request.prompt)[None].to(base.model_device(model))  # (1, T)
    generator = torch.Generator().manual_seed(request.seed)
    with torch.inference_mode():
        logits, state = model.begin(ids, use_cache)
    for i in range(request.n_chars):
        model_probs = torch.softmax(logits.float(), dim=-1).cpu()
        probs = shape_distribution(logits.cpu(), request.temperature, request.top_k, request.top_p)
        token = int(torch.multinomial(probs, 1, generator=generator))
        top = torch.topk(model_probs, min(ALTERNATIVES, len(vocab)))
        yield Token(vocab.chars[token], float(model_probs[token]),
                    [(vocab.chars[j], float(p)) for p, j in zip(top.values.tolist(), top.indices.tolist())])
        if i + 1 < request.n_chars:
            with torch.inference_mode(), single_threaded():  # a one-character step: tiny operations
                logits, state = model.advance(state, token)


def generate_text(model, request: TextRequest, **kwargs) -> str:
    return "".join(t.char for t in generate(model, request, **kwargs))
