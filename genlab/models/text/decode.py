"""One GPT decoding step (B = T = 1) with as few tensor calls per character as the arithmetic allows.

The shipped GPT is small enough that a step on a CPU spends more time dispatching tensor calls
than multiplying by weights, so the step here is GPT.forward's arithmetic rearranged once, when
decoding begins, into fewer calls:
- every Linear runs as one addmm on (1, C) rows (F.linear's own call, without its wrapper);
- RoPE needs x and x rolled by half a head (gpt.rotate): the qkv projection's rows are laid out
  [v, q, k, q rolled, k rolled], so its outputs [v, q, k] and [k, q rolled, k rolled] line up and
  one multiply and one addcmul rotate q and k while v passes through (cos 1, sin 0); the cache
  holds values and keys side by side (gpt.KVCache.kv) and v, k go into it in one write;
- the per-position tables are sliced once a step, not once a layer.
Results equal forward()'s up to float rounding (tests hold them to it).
"""

from dataclasses import dataclass
from typing import List, Tuple

import torch
import torch.nn.functional as F

from genlab.models.text.shared import decode_layout


@dataclass(frozen=True)
class LayerWeights:
    ln1: Tuple[torch.Tensor, torch.Tensor, float]  # LayerNorm weight, bias, eps
    qkv_t: torch.Tensor  # (C, 5C), a transposed view: [v, q, k, q rolled, k rolled] outputs
    qkv_bias: torch.Tensor  # (5C,)
    proj_t: torch.Tensor  # (C, C), transposed views of the modules' weights like the others
    proj_bias: torch.Tensor
    ln2: Tuple[torch.Tensor, torch.Tensor, float]
    fc_t: torch.Tensor  # (C, 4C)
    fc_bias: torch.Tensor
    gelu: str  # nn.GELU's approximate
    fc_out_t: torch.Tensor  # (4C, C)
    fc_out_bias: torch.Tensor


@dataclass(frozen=True)
class DecodeWeights:
    """A GPT's weights laid out for `step`."""

    layers: List[LayerWeights]
    embed: torch.Tensor  # (V, C)
    ln_f: Tuple[torch.Tensor, torch.Tensor, float]
    head_t: torch.Tensor  # (C, V)
    head_bias: torch.Tensor
    heads: int


def _layer_norm(ln) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """torch.layer_norm's arguments after the shape (F.layer_norm's Python checks cost a step more than the op)."""
    return ln.weight.detach(), ln.bias.detach(), ln.eps


def _rolled_rows(heads: int, width: int) -> torch.Tensor:
    """Row order that puts each head's channels rolled by half a head, as gpt.rotate's roll does."""
    head_dim = width // heads
    return torch.arange(width).view(heads, head_dim).roll(head_dim // 2, dims=-1).flatten()


def prepare(model) -> DecodeWeights:
    """The weights of `model` (a gpt.GPT) in decoding layout, shared read-only by its decoders."""
    width, heads = model.config.n_embd, model.config.n_head
    rolled = _rolled_rows(heads, width).to(model.head.weight.device)
    layers = []
    with torch.no_grad():
        for block in model.blocks:
            w, b = block.attn.qkv.weight, block.attn.qkv.bias  # (3C, C), (3C,): q, k, v rows
            (q_w, k_w, v_w), (q_b, k_b, v_b) = w.split(width), b.split(width)
            qkv_w = torch.cat([v_w, q_w, k_w, q_w[rolled], k_w[rolled]])  # (5C, C)
            qkv_b = torch.cat([v_b, q_b, k_b, q_b[rolled], k_b[rolled]])
            fc, fc_out = block.mlp[0], block.mlp[2]
            layers.append(LayerWeights(
                _layer_norm(block.ln1), qkv_w.t(), qkv_b, block.attn.proj.weight.t(),
                block.attn.proj.bias.detach(), _layer_norm(block.ln2), fc.weight.t(),
                fc.bias.detach(), block.mlp[1].approximate, fc_out.weight.t(), fc_out.bias.detach()))
        return DecodeWeights(layers, model.embed.weight.detach(), _layer_norm(model.ln_f),
                             model.head.weight.t(), model.head.bias.detach(), heads)


def weights_of(model) -> DecodeWeights:
    """`model`'s decoding weights, remade when its parameters changed since they were made."""
    return decode_layout(model, lambda: prepare(model))


class RotationTables:
    """cos and sin rows (positions, 3, 1, D) for rotating [v, q, k] at once: [1, cos, cos] and
    [0, sin, sin] (values are not rotated). Grown from the model's RotaryTables by doubling."""

    def __init__(self):
        self.tables = (torch.empty(0), torch.empty(0))  # swapped as a pair: decoders in other threads read it

    def at(self, rope, position: int, like: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        cos, sin = self.tables
        if position >= cos.shape[0] or cos.device != like.device or cos.dtype != like.dtype:
            count = max(256, 2 * cos.shape[0], position + 1)
            cos, sin = rope(0, count, like.device, like.dtype)  # (N, D) each
            cos, sin = cos[:, None, None], sin[:, None, None]  # (N, 1, 1, D)
            cos = torch.cat([torch.ones_like(cos), cos, cos], 1)  # (N, 3, 1, D)
            sin = torch.cat([torch.zeros_like(sin), sin, sin], 1)
            self.tables = (cos, sin)
        return cos[position], sin[position]  # (3, 1, D) each


def step(weights: DecodeWeights, rope, tables: RotationTables, cache, token: int) -> torch.Tensor:
    """Logits (V,) for the character after `token`, appended to `cache` (a gpt.KVCache of batch 1)."""
    heads = weights.heads
    x = weights.embed[token].view(1, -1)  # (1, C)
    width = x.shape[1]
    cos, sin = tables.at(rope, cache.position, x)  # (3, 1, D)
    slot, filled = cache.slot, min(cache.filled + 1, cache.context)
    for i, layer in enumerate(weights.layers):
        h = torch.layer_norm(x, (width,), *layer.ln1)
        projected = torch.addmm(layer.qkv_bias, h, layer.qkv_t).view(5, heads, -1)  # (5, H, D)
        vqk = torch.addcmul(projected[:3] * cos, projected[2:], sin)  # (3, H, D): v; q, k rotated
        cache.kv[:, i, 0, :, slot] = vqk[::2]  # v, k
        keys, values = cache.k[i, :, :, :filled], cache.v[i, :, :, :filled]  # (B, H, filled, D)
        y = F.scaled_dot_product_attention(vqk[1].view(1, heads, 1, -1), keys, values)  # (B, H, 1, D)
        x = x + torch.addmm(layer.proj_bias, y.view(1, width), layer.proj_t)
        h = torch.layer_norm(x, (width,), *layer.ln2)
        h = F.gelu(torch.addmm(layer.fc_bias, h, layer.fc_t), approximate=layer.gelu)
        x = x + torch.addmm(layer.fc_out_bias, h, layer.fc_out_t)
    cache.advance(1)
    return torch.addmm(weights.head_bias, torch.layer_norm(x, (width,), *weights.ln_f), weights.head_t)[0]


