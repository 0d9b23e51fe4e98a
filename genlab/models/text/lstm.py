"""A character-level multi-layer LSTM language model (char-rnn, Karpathy 2015; Hochreiter &
Schmidhuber 1997).

It reads one character at a time and carries everything it remembers in its hidden and cell
state, so generation costs the same per character however long the text grows. Training
unrolls it over windows of `context` characters from a zero state (truncated backpropagation
through time).
"""

from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import nn

from genlab.data.corpus import CharVocab
from genlab.models.base import Family, GenerativeModel, TrainConfig
from genlab.models.text.shared import decode_layout, text_loss, vocab_param
from genlab.params import param


@dataclass
class LSTMConfig:
    vocab: str = vocab_param()
    context: int = param(128, "characters per training window (backpropagation through time)", 8, 1024)
    n_layer: int = param(2, "stacked LSTM layers", 1, 6, basic=True)
    hidden: int = param(512, "units per LSTM layer", 16, 2048, basic=True)
    n_embd: int = param(64, "size of the character embedding", 8, 1024)
    dropout: float = param(0.2, "dropout between layers and before the output while training", 0.0, 0.9)

    def activations_per_example(self) -> float:
        """Float32 values autograd keeps for backward for one window (genlab.memory_estimate).

        torch runs a CPU LSTM layer through oneDNN, whose training workspace forward fills, per
        character, with every hidden unit's gates and states (about 7 x hidden) and states padded to
        the wider of input and hidden width (about 3 x that); backward fills the rest of it (the
        gradients: BACKWARD_FACTOR). Beside it the layer's input and output (T, width) sequences."""
        t, hidden = self.context, self.hidden
        total = 0
        for layer in range(self.n_layer):
            width = self.n_embd if layer == 0 else hidden
            total += t * (7 * hidden + 3 * max(width, hidden) + width + hidden)
        noise = self.n_layer * t * hidden if self.dropout > 0 else 0  # n_layer - 1 between layers, 1 before the head
        return total + noise + t * hidden + t * len(self.vocab)  # the head's input; the (T, V) log-softmax


@dataclass(frozen=True)
class LSTMDecodeWeights:
    """An LSTM's weights laid out for one decoding step: each layer's two products run as addmm on
    (1, width) rows against its weights transposed ahead of time (for one row, faster than against
    F.linear's transposed view of them), with the two biases summed."""

    embed: torch.Tensor  # (V, n_embd)
    layers: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # W_ih^T (in, 4H), W_hh^T (H, 4H), b_ih + b_hh
    head_t: torch.Tensor  # (hidden, V)
    head_bias: torch.Tensor


class LSTM(GenerativeModel):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.vocab = CharVocab(config.vocab)
        self.context = config.context
        self.embed = nn.Embedding(len(self.vocab), config.n_embd)
        self.rnn = nn.LSTM(config.n_embd, config.hidden, config.n_layer, batch_first=True,
                           dropout=config.dropout if config.n_layer > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, len(self.vocab))

    def batch_options(self) -> dict:
        return {"vocab": self.vocab, "context": self.context}  # windows this model reads, in its own ids

    def forward(self, ids: torch.Tensor, state=None):
        """ids (B, T) -> logits (B, T, V) and the new (h, c), each (layers, B, hidden)."""
        out, state = self.rnn(self.embed(ids), state)  # (B, T, hidden)
        return self.head(self.drop(out)), state

    def loss(self, batch: torch.Tensor):
        return text_loss(self(batch[:, :-1])[0], batch[:, 1:])

    # generation: genlab.generation drives begin/advance; the state is the LSTM's (h, c)
    def begin(self, ids: torch.Tensor, use_cache: bool = True):
        """ids (1, T) prompt -> logits (V,) for the next character, and the recurrent state."""
        logits, state = self(ids)
        return logits[0, -1], state

    def advance(self, state, token: int):
        """Feed one character; logits (V,) for the next one."""
        if self.training:  # forward() applies dropout
            logits, state = self(torch.tensor([[token]], device=self.head.weight.device), state)
            return logits[0, -1], state
        return self._step(self.decode_weights(), state, token)

    @staticmethod
    def _step(weights: LSTMDecodeWeights, state, token: int):
        """forward() for one character, state (h, c) each (layers, 1, hidden): nn.LSTM's cell (gate order
        i, f, g, o) in plain tensor calls: nn.LSTM's CPU path (oneDNN) has a fixed cost per call that, for
        one character, is many times the products themselves (benchmarks/text_speed.py)."""
        x = weights.embed[token].view(1, -1)  # (1, n_embd)
        hs, cs = [], []
        for (w_ih_t, w_hh_t, bias), h, c in zip(weights.layers, *state):
            gates = torch.addmm(bias, x, w_ih_t).addmm_(h, w_hh_t)  # (1, 4H)
            i, f, g, o = gates.chunk(4, 1)
            c = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), torch.tanh(g))
            x = torch.sigmoid(o) * torch.tanh(c)  # (1, H): this layer's h, the next one's input
            hs.append(x)
            cs.append(c)
        return torch.addmm(weights.head_bias, x, weights.head_t)[0], (torch.stack(hs), torch.stack(cs))

    def decode_weights(self) -> LSTMDecodeWeights:
        """The weights in decoding layout, remade when they changed since they were made."""
        return decode_layout(self, self._lay_out)

    def _lay_out(self) -> LSTMDecodeWeights:  # called without autograd (shared.decode_layout)
        layers = [(getattr(self.rnn, f"weight_ih_l{k}").t().contiguous(),
                   getattr(self.rnn, f"weight_hh_l{k}").t().contiguous(),
                   getattr(self.rnn, f"bias_ih_l{k}") + getattr(self.rnn, f"bias_hh_l{k}"))
                  for k in range(self.rnn.num_layers)]
        return LSTMDecodeWeights(self.embed.weight.detach(), layers, self.head.weight.t().contiguous(),
                                 self.head.bias.detach())


FAMILY = Family(
    name="lstm",
    title="LSTM (char-rnn)",
    output="text",
    model_cls=LSTM,
    config_cls=LSTMConfig,
    data="text",
    recipe=TrainConfig(steps=4500, batch_size=32, lr=2e-3, warmup_steps=100, schedule="cosine"),
    quick_recipe=TrainConfig(steps=150, batch_size=16, lr=3e-3, warmup_steps=10, schedule="cosine"),
    quick_config={"context": 64, "n_layer": 1, "hidden": 128, "dropout": 0.0},
    recipe_help={"steps": "optimiser steps, one batch of text windows each",
                 "batch_size": "text windows per step, each `context` characters long"},
    loss_names={"loss": "loss (nats/char)"},
    storage_dtype="float16",
)
