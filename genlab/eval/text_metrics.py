"""Validation loss of text families in nats and bits per character, on the standard split.

Two protocols, both over the whole validation split (the last 10% of the corpus):
- sliding: every character after the first is predicted exactly once, from windows of `context`
  characters that advance by half a window, so each prediction sees at least context/2
  characters of history (the usual way to report a language model's loss);
- fresh windows: non-overlapping windows scored at every position, as in training, where the
  first characters of a window have little history (nanoGPT's `estimate_loss` reads like this).
"""

import math
from typing import Callable, List, Tuple

import torch
import torch.nn.functional as F

from genlab import weights
from genlab.data import corpus
from genlab.models.base import Family, evaluating, model_device

BATCH = 64


def _window_nll(model, ids: torch.Tensor, starts: List[int], context: int) -> torch.Tensor:
    """Per-position NLL (len(starts), context) of windows ids[s : s + context + 1]."""
    device = model_device(model)
    windows = torch.stack([ids[s:s + context + 1] for s in starts]).to(device)  # (B, T + 1)
    logits = model(windows[:, :-1])[0]  # (B, T, V)
    return F.cross_entropy(logits.transpose(1, 2).float(), windows[:, 1:], reduction="none").cpu()


def sliding_loss(model, ids: torch.Tensor, context: int) -> Tuple[float, int]:
    """Mean NLL (nats) of ids[1:], each predicted once with >= context/2 characters of history when available."""
    stride = max(1, context // 2)
    last = len(ids) - 1 - context
    if last < 0:
        raise ValueError(f"text of {len(ids)} characters is shorter than one window of {context + 1}")
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    total, count, done = 0.0, 0, 0  # done: the global index of the last target scored
    with evaluating(model):
        for i in range(0, len(starts), BATCH):
            chunk = starts[i:i + BATCH]
            nll = _window_nll(model, ids, chunk, context)
            for row, s in enumerate(chunk):
                first = max(0, done - s)  # target j of this window is global index s + 1 + j
                total += float(nll[row, first:].double().sum())
                count += context - first
                done = s + context
    return total / count, count


def fresh_window_loss(model, ids: torch.Tensor, context: int) -> float:
    starts = list(range(0, len(ids) - context, context))  # each window needs context + 1 ids
    with evaluating(model):
        parts = [_window_nll(model, ids, starts[i:i + BATCH], context) for i in range(0, len(starts), BATCH)]
    return float(torch.cat(parts).double().mean())


def evaluate_text(family: Family, model, judge=None, *, n: int = 0, progress: Callable[[str], None] = print,
                  text: corpus.Corpus = None) -> dict:
    """Validation loss of `model` on tiny-shakespeare (or `text`), plus size and training cost."""
    validation = text if text is not None else corpus.load_corpus("test")
    ids = model.vocab.encode(validation.text)
    progress(f"scoring {len(ids):,} characters of {validation.source}")
    loss, count = sliding_loss(model, ids, model.context)
    fresh = fresh_window_loss(model, ids, model.context)
    run = weights.read_json(weights.shipped(family) / "training.json") if text is None else {}
    summary = {"val loss (nats/char)": round(loss, 4), "val bits/char": round(loss / math.log(2), 4),
               "val loss, fresh windows (nats/char)": round(fresh, 4),
               "parameters": sum(p.numel() for p in model.parameters())}
    if run:
        summary["training tokens"] = run["steps"] * run["recipe"]["batch_size"] * model.context
        summary["training wall time (min)"] = round(run["wall_time_s"] / 60, 1)
    return {"family": family.name, "reference": validation.source, "summary": summary,
            "protocol": {"sliding": f"windows of {model.context}, stride {max(1, model.context // 2)}, "
                                    f"{count:,} characters each scored once",
                         "fresh windows": f"non-overlapping windows of {model.context}, every position scored"}}
