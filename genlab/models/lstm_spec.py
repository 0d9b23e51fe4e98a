"""The LSTM family's registry entry: its config and recipes (no torch; the network is in lstm.py)."""

from dataclasses import dataclass

from genlab.models.base import Family, TrainConfig
from genlab.models.text_spec import TEXT_TINY, vocab_param
from genlab.params import param


@dataclass
class LSTMConfig:
    vocab: str = vocab_param()
    context: int = param(128, "characters per training window (backpropagation through time)", 8, 1024)
    n_layer: int = param(2, "stacked LSTM layers", 1, 6)
    hidden: int = param(512, "units per LSTM layer", 16, 2048)
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

FAMILY = Family(
    name="lstm",
    title="LSTM (char-rnn)",
    output="text",
    implementation="genlab.models.lstm",
    config_cls=LSTMConfig,
    data="text",
    recipe=TrainConfig(steps=4500, batch_size=32, lr=2e-3, warmup_steps=100, schedule="cosine"),
    quick_recipe=TrainConfig(steps=150, batch_size=16, lr=3e-3, warmup_steps=10, schedule="cosine"),
    quick_config={"context": 64, "n_layer": 1, "hidden": 128, "dropout": 0.0},
    tiny={**TEXT_TINY, "n_layer": 1, "hidden": 16, "n_embd": 8},
    storage_dtype="float16",
)
