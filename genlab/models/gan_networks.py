"""The GAN family's two architectures, by the name its config's `architecture` field gives.

"dcgan" is the shipped one: transposed convolutions (Radford et al. 2016) and a spectrally
normalised (Miyato et al. 2018) convolutional discriminator with a projection head for the class
(Miyato & Koyama 2018). "dense" is the fully connected GAN of the article genlab comes from: one
hidden layer each, a 784-unit tanh output, and no normalisation at all. Both take the class (a
learned embedding), so the family stays class-conditional whichever is chosen; both
discriminators return raw scores (logits), and the objective (genlab.models.gan_losses) decides
what to do with them, the article's sigmoid included.

Every network takes the family's GANConfig (genlab.models.gan); it is not imported here, so the
config can name this module's architectures without a cycle.
"""

from dataclasses import dataclass
from typing import Callable, Dict

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

PIXELS = 28 * 28


class ConvGenerator(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c.g_width
        self.embed = nn.Embedding(c.classes, c.embed_dim)
        self.project = nn.Sequential(
            nn.Linear(c.z_dim + c.embed_dim, 4 * w * 7 * 7, bias=False), nn.BatchNorm1d(4 * w * 7 * 7), nn.ReLU(True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),  # 28x28
            nn.Conv2d(w, 1, 3, 1, 1), nn.Tanh(),
        )
        self.width = w

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim), labels (B,) -> images (B, 1, 28, 28) in [-1, 1]"""
        h = self.project(torch.cat([z, self.embed(labels)], dim=1)).view(-1, 4 * self.width, 7, 7)
        # channels-last (NHWC) activations: oneDNN's transposed convolutions run them faster on a CPU,
        # sampling and training alike (benchmarks/gan_speed.py); same values, a different memory order
        return self.net(h.contiguous(memory_format=torch.channels_last))


class ConvDiscriminator(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c.d_width
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, w, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 14x14
            spectral_norm(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 7x7
            nn.Flatten(),
        )
        self.out = spectral_norm(nn.Linear(2 * w * 49, 1))
        self.embed = spectral_norm(nn.Embedding(c.classes, 2 * w * 49))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """images (B, 1, 28, 28), labels (B,) -> realness scores (B,): psi(h) + <embed(y), h>"""
        h = self.net(images)  # (B, 2w*49)
        return self.out(h).squeeze(1) + (self.embed(labels) * h).sum(1)


class DenseGenerator(nn.Module):
    """The article's generator: [z, class embedding] -> hidden ReLU layer -> 784 tanh pixels."""

    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c.classes, c.embed_dim)
        self.net = nn.Sequential(nn.Linear(c.z_dim + c.embed_dim, c.dense_hidden), nn.ReLU(True),
                                 nn.Linear(c.dense_hidden, PIXELS), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim), labels (B,) -> images (B, 1, 28, 28) in [-1, 1]"""
        return self.net(torch.cat([z, self.embed(labels)], dim=1)).view(-1, 1, 28, 28)


class DenseDiscriminator(nn.Module):
    """The article's discriminator: [784 pixels, class embedding] -> hidden ReLU layer -> one score.

    It returns the score before the article's sigmoid: the "article" objective applies it, the
    others work on logits."""

    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c.classes, c.embed_dim)
        self.net = nn.Sequential(nn.Linear(PIXELS + c.embed_dim, c.dense_hidden), nn.ReLU(True),
                                 nn.Linear(c.dense_hidden, 1))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """images (B, 1, 28, 28), labels (B,) -> realness scores (B,)"""
        return self.net(torch.cat([images.flatten(1), self.embed(labels)], dim=1)).squeeze(1)


def conv_activations(c) -> float:
    """Float32 values autograd keeps for backward per digit (genlab.memory_estimate), at the step's
    peak: the generator's update, after the discriminator's (whose freed memory the allocator keeps)."""
    g, d = c.g_width, c.d_width
    # generator, before and after each BatchNorm: (4g, 7, 7), (2g, 14, 14), (g, 28, 28); the tanh output
    generator = 2 * (4 * g * 49 + 2 * g * 196 + g * 784) + 784
    # discriminator: the digit, (d, 14, 14) and (2d, 7, 7) activations, the class embedding it projects onto
    discriminator = 784 + d * 196 + 2 * 2 * d * 49
    # the generator's graph lives through both updates; D scores real and generated digits, then
    # the generated ones again for the generator's loss
    return generator + 3 * discriminator


def dense_activations(c) -> float:
    """As `conv_activations`, for the dense networks."""
    # generator: its input, the hidden layer before and after ReLU, the 784 pixels before and after tanh
    generator = c.z_dim + c.embed_dim + 2 * c.dense_hidden + 2 * PIXELS
    # discriminator: its input (pixels and embedding), the hidden layer before and after ReLU
    discriminator = PIXELS + c.embed_dim + 2 * c.dense_hidden
    return generator + 3 * discriminator


@dataclass(frozen=True)
class GANArchitecture:
    generator: type  # nn.Module, __init__(config); forward(z (B, z_dim), labels (B,)) -> (B, 1, 28, 28)
    discriminator: type  # nn.Module, __init__(config); forward(images, labels) -> scores (B,)
    activations: Callable[[object], float]  # config -> float32 values kept for backward per digit


ARCHITECTURES: Dict[str, GANArchitecture] = {
    "dcgan": GANArchitecture(ConvGenerator, ConvDiscriminator, conv_activations),
    "dense": GANArchitecture(DenseGenerator, DenseDiscriminator, dense_activations),
}
