"""The GPT family's registry entry: its config and recipes (no torch; the network is in gpt.py)."""

from dataclasses import dataclass

from genlab.models.base import Family, TrainConfig
from genlab.models.text_spec import TEXT_TINY, vocab_param
from genlab.params import param


@dataclass
class GPTConfig:
    vocab: str = vocab_param()
    context: int = param(128, "characters the model attends to (block size)", 8, 1024)
    n_layer: int = param(4, "transformer blocks", 1, 24)
    n_head: int = param(4, "attention heads per block (must divide n_embd into even head sizes)", 1, 32)
    n_embd: int = param(160, "width of the residual stream", 16, 1024)
    dropout: float = param(0.1, "dropout in attention and MLP while training", 0.0, 0.9)


FAMILY = Family(
    name="gpt",
    title="GPT (char-level transformer)",
    output="text",
    implementation="genlab.models.gpt",
    config_cls=GPTConfig,
    data="text",
    recipe=TrainConfig(steps=4000, batch_size=64, lr=1.5e-3, weight_decay=0.1, warmup_steps=100, schedule="cosine",
                       beta2=0.99),
    quick_recipe=TrainConfig(steps=150, batch_size=16, lr=2e-3, warmup_steps=20, schedule="cosine", beta2=0.99),
    quick_config={"context": 64, "n_layer": 2, "n_head": 4, "n_embd": 64, "dropout": 0.0},
    tiny={**TEXT_TINY, "n_layer": 1, "n_head": 2, "n_embd": 16},
    storage_dtype="float16",
)
