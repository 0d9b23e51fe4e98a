"""Rebuild genlab/assets/mnist_sample.npz: a stratified, fixed-seed sample of real MNIST digits.

Usage: GENLAB_DATA_DIR=/path/to/mnist python scripts/make_mnist_sample.py
(300 train digits and 100 test digits per class; about 1 MB compressed).
"""

import numpy as np

from genlab.data.mnist import SAMPLE_PATH, load_mnist


def stratified(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, per_class in (("train", 300), ("test", 100)):
        digits = load_mnist(split, download=False)
        index = stratified(digits.labels, per_class, rng)
        arrays[f"{split}_images"] = digits.images[index]
        arrays[f"{split}_labels"] = digits.labels[index].astype(np.uint8)
    SAMPLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(SAMPLE_PATH, **arrays)
    print(f"wrote {SAMPLE_PATH} ({SAMPLE_PATH.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
