"""What a char GPT's attention heads look at: the softmax weights of every layer and head.

gpt.SelfAttention hands queries, keys and values to F.scaled_dot_product_attention, which keeps
its weights inside the kernel. Here each block is re-run from the model's own modules with the
same arithmetic written out (Vaswani et al. 2017, eq. 1: softmax(q k^T / sqrt(D)) v, causal),
so the weights can be returned; tests hold the re-derived block outputs to the model's forward.
Eval-mode arithmetic: dropout is never applied.
"""

import math
from typing import Tuple

import torch

from genlab.models import base
from genlab.models.text.gpt import GPT, Block, rotate


def has_attention(model) -> bool:
    """Whether `model` is a transformer whose attention can be shown (an LSTM is not)."""
    return isinstance(model, GPT)


def block_with_weights(block: Block, x: torch.Tensor, rope: Tuple[torch.Tensor, torch.Tensor]):
    """One gpt.Block's eval-mode forward: x (B, T, C) -> its output (B, T, C) and the attention
    weights (B, H, T, T), row t spread over keys 0..t and exactly 0 on later (future) keys."""
    attn = block.attn
    b, t, c = x.shape
    qkv = attn.qkv(block.ln1(x)).view(b, t, 3, attn.n_head, c // attn.n_head).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
    (q, k), v = rotate(qkv[:2], *rope).unbind(0), qkv[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
    future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
    weights = scores.masked_fill(future, -math.inf).softmax(dim=-1)  # exp(-inf) = 0: future keys get none
    y = (weights @ v).transpose(1, 2).reshape(b, t, c)  # (B, T, C): heads side by side again
    x = x + attn.proj(y)
    return x + block.mlp(block.ln2(x)), weights


def attention_weights(model: GPT, ids: torch.Tensor) -> torch.Tensor:
    """ids (T,), 1 <= T <= model.context, starting at position 0 -> weights (L, H, T, T), float32 on CPU."""
    if ids.dim() != 1 or not 1 <= ids.shape[0] <= model.context:
        raise ValueError(f"attention_weights needs 1 to {model.context} ids in one row, got shape {tuple(ids.shape)}")
    with torch.inference_mode():
        x = model.embed(ids[None].to(base.model_device(model)))  # (1, T, C)
        rope = model.rope(0, ids.shape[0], x.device, x.dtype)
        maps = []
        for block in model.blocks:
            x, weights = block_with_weights(block, x, rope)
            maps.append(weights[0])
        return torch.stack(maps).float().cpu()
