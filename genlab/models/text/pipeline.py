"""The sampling pipeline at one position of a text: what the model read, what it predicted, and how
temperature, top-k and top-p reshaped that prediction before the draw.

Each stage is generation.shape_distribution with one more of its settings switched on (it applies
them in that order), so the last stage is exactly the distribution generation samples from.
"""

from dataclasses import dataclass

import torch

from genlab.models import base
from genlab.models.text import generation

@dataclass(frozen=True)
class Stages:
    logits: torch.Tensor  # (V,) the model's raw scores, float32 on CPU
    probs: torch.Tensor  # (4, V): softmax(logits), then after temperature, top-k and top-p (sampled from)


class GenerationReplay:
    """generation's own steps over a known text: begin() on the prompt ids (P,), then advance() through
    fed ids (F,) one at a time, keeping the logits (V,) after each, float32 on CPU.

    Past a GPT's window this differs from a fresh read: its key/value cache keeps keys computed
    while older characters were still in view. Steps run only as far as asked, once: asking for an
    earlier position later costs nothing. Not thread-safe: callers sharing one hold a lock."""

    def __init__(self, model, prompt_ids: torch.Tensor, fed_ids: torch.Tensor):
        self.model, self.fed = model, fed_ids.tolist()
        with torch.inference_mode():
            logits, self._state = model.begin(prompt_ids[None].to(base.model_device(model)))
        self.logits = [logits.float().cpu()]  # [n]: after the prompt and n fed ids

    def logits_after(self, n: int) -> torch.Tensor:
        """The logits after the prompt and the first n fed ids, 0 <= n <= F."""
        if not 0 <= n <= len(self.fed):
            raise ValueError(f"n must be from 0 to {len(self.fed)}, got {n}")
        while len(self.logits) <= n:
            with torch.inference_mode():  # per step: no mode is held between calls
                logits, self._state = self.model.advance(self._state, self.fed[len(self.logits) - 1])
            self.logits.append(logits.float().cpu())
        return self.logits[n]


def stages(logits: torch.Tensor, temperature: float, top_k: int = 0, top_p: float = 1.0) -> Stages:
    shape = generation.shape_distribution
    probs = torch.stack([shape(logits, 1.0), shape(logits, temperature), shape(logits, temperature, top_k),
                         shape(logits, temperature, top_k, top_p)])
    return Stages(logits.float(), probs)
