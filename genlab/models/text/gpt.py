"""A character-level decoder-only transformer (GPT, Radford et al. 2018; layout after nanoGPT).

Pre-LayerNorm blocks of causal self-attention and a GELU MLP. Positions enter through rotary
embeddings (RoPE, Su et al. 2021) instead of a learned table: attention then depends only on
how far apart two characters are, so generation can keep a key/value cache of the last
`context` characters in a ring buffer (a new position overwrites the oldest; the order of cached
keys does not matter to attention) and still give the logits of a fresh forward pass over them.
"""

import math
import threading
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from genlab.data.corpus import CharVocab
from genlab.models.base import Family, GenerativeModel, TrainConfig
from genlab.models.text import decode
from genlab.models.text.shared import text_loss, vocab_param
from genlab.params import param


@dataclass
class GPTConfig:
    vocab: str = vocab_param()
    context: int = param(128, "characters the model attends to (block size)", 8, 1024)
    n_layer: int = param(4, "transformer blocks", 1, 24, basic=True)
    n_head: int = param(4, "attention heads per block (must divide n_embd into even head sizes)", 1, 32)
    n_embd: int = param(160, "width of the residual stream", 16, 1024, basic=True)
    dropout: float = param(0.1, "dropout in attention and MLP while training", 0.0, 0.9)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward for one window (genlab.memory_estimate).

        Per block, 18 (T, C) tensors either way: LayerNorm inputs and outputs (4), the MLP's (T, 4C)
        hidden before and after GELU (8), and on attention's math path q, k, v, the re-laid-out
        output and two dropout noises (6), on its fused path the qkv projection, the rotated q and k
        and the kernel's output (6)."""
        t, c, heads = self.context, self.n_embd, self.n_head
        if self.dropout > 0:
            # CPU scaled_dot_product_attention has no fused kernel with dropout: its math path keeps
            # the (H, T, T) softmax, the dropout noise and the dropped weights
            block = 18 * t * c + 3 * heads * t * t
        else:  # the fused (flash) kernel keeps only the (H, T) log-sum-exp beside its output
            block = 18 * t * c + heads * t
        # the last block's output, the final LayerNorm's output (and the embedding's dropout noise);
        # the (T, V) log-softmax of the loss
        return self.n_layer * block + (3 if self.dropout > 0 else 2) * t * c + t * len(self.vocab)


_GROWING = threading.Lock()  # module-wide, so models stay deep-copyable; tables grow a few times per process


class RotaryTables(nn.Module):
    """RoPE tables for the angles position * 10000^(-2i/D) of channel pairs (i, i + D/2), computed
    once for the positions seen so far and grown by doubling: a decoding step only slices them.
    Stored as (T, D): [cos, cos] and [-sin, sin], so a rotation is x * cos + roll(x, D/2) * sin.

    Requests decoding at once (a GPU serves several) share the tables: a grower swaps in both
    larger tables together under a lock, and a reader slices the pair it picked up."""

    def __init__(self, head_dim: int):
        super().__init__()
        self.half = head_dim // 2
        self._tables = (torch.empty(0, 2 * self.half), torch.empty(0, 2 * self.half))  # (cos, sin), float32

    def _grown(self, end: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        with _GROWING, torch.inference_mode(False), torch.no_grad():  # plain tensors: training may use them
            cos, sin = self._tables
            if end > cos.shape[0] or cos.device != device:
                inv_freq = 10000.0 ** (-torch.arange(self.half, dtype=torch.float32, device=device) / self.half)
                positions = torch.arange(max(end, 2 * cos.shape[0], 256), dtype=torch.float32, device=device)
                angles = positions[:, None] * inv_freq[None]  # (T, D/2)
                self._tables = (torch.cat([angles.cos()] * 2, 1), torch.cat([-angles.sin(), angles.sin()], 1))
            return self._tables

    def forward(self, start: int, length: int, device: torch.device, dtype: torch.dtype):
        end = start + length
        cos, sin = self._tables
        if end > cos.shape[0] or cos.device != device:
            cos, sin = self._grown(end, device)
        return cos[start:end].to(dtype), sin[start:end].to(dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE: rotate channel pairs (i, i + D/2) of x (..., T, D) by the tables' angles (T, D):
    [x1 cos - x2 sin, x2 cos + x1 sin], in four tensor operations (decoding runs it per layer)."""
    return x * cos + x.roll(x.shape[-1] // 2, dims=-1) * sin


class KVCache:
    """Keys and values of the last `context` positions of every layer, (layers, B, H, context, D) each,
    side by side in one tensor `kv` (values first), so a decoding step writes both in one call."""

    def __init__(self, layers: int, batch: int, heads: int, context: int, head_dim: int, like: torch.Tensor):
        self.kv = like.new_zeros(2, layers, batch, heads, context, head_dim)
        self.v, self.k = self.kv.unbind(0)  # views of kv
        self.context, self.filled, self.slot = context, 0, 0  # slot: where the next position goes
        self.position = 0  # positions seen so far: the RoPE position of the next one
        self.decoding = None  # the model's decode.DecodeWeights, fetched once per generation

    def store(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Write this step's k, v (B, H, T, D) and return every cached key and value of `layer`."""
        if k.shape[2] == 1:  # decoding: one slot, written in place
            self.k[layer, :, :, self.slot], self.v[layer, :, :, self.slot] = k[:, :, 0], v[:, :, 0]
        else:
            slots = (self.slot + torch.arange(k.shape[2], device=k.device)) % self.context
            self.k[layer][:, :, slots], self.v[layer][:, :, slots] = k, v
        filled = min(self.filled + k.shape[2], self.context)
        return self.k[layer, :, :, :filled], self.v[layer, :, :, :filled]

    def advance(self, steps: int) -> None:
        self.slot = (self.slot + steps) % self.context
        self.filled = min(self.filled + steps, self.context)
        self.position += steps


class SelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, rope: Tuple[torch.Tensor, torch.Tensor], layer: int = 0,
                cache: Optional[KVCache] = None) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        qkv = self.qkv(x).view(b, t, 3, self.n_head, c // self.n_head).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
        (q, k), v = rotate(qkv[:2], *rope).unbind(0), qkv[2]  # one rotation for queries and keys
        if cache is not None:
            keys, values = cache.store(layer, k, v)
            if t == 1:  # decoding: every cached key precedes the query, so no mask
                k, v = keys, values
            elif cache.filled:
                raise ValueError("a prompt (several positions) can only start an empty cache")
        y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1, dropout_p=self.dropout if self.training else 0.0)
        return self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)
        self.attn = SelfAttention(config)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd), nn.Dropout(config.dropout))

    def forward(self, x, rope, layer=0, cache=None):
        x = x + self.attn(self.ln1(x), rope, layer, cache)
        return x + self.mlp(self.ln2(x))


class GPT(GenerativeModel):
    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head or (config.n_embd // config.n_head) % 2:
            raise ValueError(f"n_embd {config.n_embd} must split into {config.n_head} heads of even size")
        self.config = config
        self.vocab = CharVocab(config.vocab)
        self.context = config.context
        self.embed = nn.Embedding(len(self.vocab), config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.rope = RotaryTables(config.n_embd // config.n_head)
        self._rotation = decode.RotationTables()  # the rope tables as decode.step reads them
        self.head = nn.Linear(config.n_embd, len(self.vocab))
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by 1/sqrt(2 * layers)
            if name.endswith(("proj.weight", "mlp.2.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def batch_options(self) -> dict:
        return {"vocab": self.vocab, "context": self.context}  # windows this model reads, in its own ids

    def forward(self, ids: torch.Tensor, cache: Optional[KVCache] = None):
        """ids (B, T) -> logits (B, T, V), and the cache (when given) now holding these positions too;
        ids continue the cached positions (none: they start at position 0)."""
        start = cache.position if cache is not None else 0
        x = self.drop(self.embed(ids))  # (B, T, C)
        rope = self.rope(start, ids.shape[1], x.device, x.dtype)
        for i, block in enumerate(self.blocks):
            x = block(x, rope, i, cache)
        if cache is not None:
            cache.advance(ids.shape[1])
        return self.head(self.ln_f(x)), cache

    def loss(self, batch: torch.Tensor):
        return text_loss(self(batch[:, :-1])[0], batch[:, 1:])

    # generation: genlab.generation drives begin/advance; the state is the KVCache, or without
    # a cache the window of the last `context` ids
    def begin(self, ids: torch.Tensor, use_cache: bool = True):
        """ids (1, T) prompt -> logits (V,) for the next character, and the decoding state."""
        ids = ids[:, -self.context:]
        if not use_cache:
            return self(ids)[0][0, -1], ids
        c = self.config
        cache = KVCache(c.n_layer, ids.shape[0], c.n_head, c.context, c.n_embd // c.n_head, self.head.weight)
        return self(ids, cache)[0][0, -1], cache

    def advance(self, state, token: int):
        """Feed one character; logits (V,) for the next one. Without a cache, re-run the whole window."""
        if isinstance(state, KVCache) and not self.training:  # training mode needs forward()'s dropout
            if state.decoding is None:
                state.decoding = decode.weights_of(self)
            return decode.step(state.decoding, self.rope, self._rotation, state, token), state
        token_ids = torch.tensor([[token]], device=self.head.weight.device)
        if isinstance(state, KVCache):
            return self(token_ids, state)[0][0, -1], state
        window = torch.cat([state, token_ids], dim=1)[:, -self.context:]
        return self(window)[0][0, -1], window


FAMILY = Family(
    name="gpt",
    title="GPT (char-level transformer)",
    output="text",
    model_cls=GPT,
    config_cls=GPTConfig,
    data="text",
    recipe=TrainConfig(steps=4000, batch_size=64, lr=1.5e-3, weight_decay=0.1, warmup_steps=100, schedule="cosine",
                       beta2=0.99),
    quick_recipe=TrainConfig(steps=150, batch_size=16, lr=2e-3, warmup_steps=20, schedule="cosine", beta2=0.99),
    quick_config={"context": 64, "n_layer": 2, "n_head": 4, "n_embd": 64, "dropout": 0.0},
    recipe_help={"steps": "optimiser steps, one batch of text windows each",
                 "batch_size": "text windows per step, each `context` characters long"},
    loss_names={"loss": "loss (nats/char)"},
    storage_dtype="float16",
)
