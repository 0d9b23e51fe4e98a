"""A character-level multi-layer LSTM language model (char-rnn, Karpathy 2015; Hochreiter &
Schmidhuber 1997).

It reads one character at a time and carries everything it remembers in its hidden and cell
state, so generation costs the same per character however long the text grows. Training
unrolls it over windows of `context` characters from a zero state (truncated backpropagation
through time).
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlab.corpus import CharVocab
from genlab.models.common import Implementation
from genlab.models.lstm_spec import LSTMConfig
from genlab.models.text import text_loss


class LSTM(nn.Module, PyTorchModelHubMixin):
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
        logits, state = self(torch.tensor([[token]], device=self.head.weight.device), state)
        return logits[0, -1], state


IMPLEMENTATION = Implementation(model_cls=LSTM)
