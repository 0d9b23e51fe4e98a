"""Config overrides that make each family's model small enough for tests that run in milliseconds
(also read by benchmarks/train_memory.py for its test-sized row)."""

TEXT_TINY = {"context": 16}
TINY = {
    "gan": {"z_dim": 8, "embed_dim": 4, "g_width": 4, "d_width": 4, "ema_start": 0},
    "vae": {"latent_dim": 2, "width": 4, "hidden": 16},
    "diffusion": {"width": 4, "ema_start": 0},
    "gpt": {**TEXT_TINY, "n_layer": 1, "n_head": 2, "n_embd": 16},
    "lstm": {**TEXT_TINY, "n_layer": 1, "hidden": 16, "n_embd": 8},
    "judge": {"width": 4, "feature_dim": 8},
}
