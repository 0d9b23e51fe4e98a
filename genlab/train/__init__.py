"""Training: the one loop, checkpoints, previews and memory estimates."""
