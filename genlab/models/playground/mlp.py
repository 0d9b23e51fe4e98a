"""The small multilayer perceptron every playground network is made of."""

from torch import nn


def mlp(inputs: int, width: int, depth: int, outputs: int, wrap=lambda layer: layer) -> nn.Sequential:
    """`depth` hidden layers of `width` units with SiLU between, then a linear map to `outputs`.
    `wrap` is applied to every linear layer (the discriminator passes spectral normalisation)."""
    layers, size = [], inputs
    for _ in range(depth):
        layers += [wrap(nn.Linear(size, width)), nn.SiLU()]
        size = width
    layers.append(wrap(nn.Linear(size, outputs)))
    return nn.Sequential(*layers)
