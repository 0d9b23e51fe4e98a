"""GAN objectives on the discriminator's raw scores (logits, or critic values), by name.

Every GAN in genlab (the digit GANs and the playground's 2-D one) picks its objective here, so the
choice means the same thing everywhere. Each entry gives D's loss on (scores of real, scores of
generated) and G's loss on the scores of generated samples; both are minimised.
"""

from dataclasses import dataclass
from typing import Callable, Dict

import torch
import torch.nn.functional as F

Scores = torch.Tensor  # (B,) raw discriminator outputs


@dataclass(frozen=True)
class GANObjective:
    title: str  # as menus show it
    discriminator: Callable[[Scores, Scores], torch.Tensor]  # (d_real, d_fake) -> scalar
    generator: Callable[[Scores], torch.Tensor]  # d_fake -> scalar
    source: str  # where it comes from


OBJECTIVES: Dict[str, GANObjective] = {
    # D maximises log D(x) + log(1 - D(G(z))); on logits: softplus(-D(x)) + softplus(D(G(z))).
    # G maximises log D(G(z)) instead of minimising log(1 - D(G(z))), whose gradient vanishes early.
    "non-saturating": GANObjective(
        "non-saturating (Goodfellow et al. 2014)",
        lambda real, fake: F.softplus(-real).mean() + F.softplus(fake).mean(),
        lambda fake: F.softplus(-fake).mean(),
        "Goodfellow et al. 2014, section 3"),
    # the critic's gap between real and generated scores estimates the Wasserstein-1 distance only when
    # the critic is 1-Lipschitz (Arjovsky et al. 2017 clip weights; spectral normalisation also bounds it)
    "wasserstein": GANObjective(
        "Wasserstein-style critic (Arjovsky et al. 2017)",
        lambda real, fake: fake.mean() - real.mean(),
        lambda fake: -fake.mean(),
        "Arjovsky et al. 2017, Algorithm 1"),
    "hinge": GANObjective(
        "hinge (Lim & Ye 2017; Miyato et al. 2018)",
        lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
        lambda fake: -fake.mean(),
        "Lim & Ye 2017, Geometric GAN"),
    "least-squares": GANObjective(
        "least squares (Mao et al. 2017)",
        lambda real, fake: 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean(),
        lambda fake: 0.5 * ((fake - 1) ** 2).mean(),
        "Mao et al. 2017, LSGAN, equation 9 with a=0, b=c=1"),
    # The fully connected GAN's listing in the article genlab comes from, exactly as written: its D ends
    # in a sigmoid, d_loss = mean(D(x)) - mean(D(G(z))), g_loss = -mean(D(G(z))), both minimised. Two
    # things are wrong. The sign: minimising d_loss teaches D to score generated digits above real ones
    # (the Wasserstein critic's loss is the negative of this), while G also pushes D(G(z)) up, so the
    # two players pull the same way and nothing asks G to look like the data. The sigmoid: a bounded
    # "critic" saturates, and once D(G(z)) is near 0 or 1 its gradient to G is near 0. Kept so that
    # people can train it and see (genlab/ui/docs/gan.md, benchmarks/article_gan.py).
    "article": GANObjective(
        "the article's listing, as written (do not use)",
        lambda real, fake: torch.sigmoid(real).mean() - torch.sigmoid(fake).mean(),
        lambda fake: -torch.sigmoid(fake).mean(),
        "the fully connected TensorFlow GAN of the article genlab comes from"),
}
