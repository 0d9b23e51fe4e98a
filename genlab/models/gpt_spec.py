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
