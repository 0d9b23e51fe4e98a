"""VAE specifics: the importance-sampled likelihood against brute-force integration, ELBO terms."""

import math

import torch

from genlab.data import mnist
from genlab.registry import FAMILIES

from conftest import tiny


def brute_force_log_likelihood(vae, binary: torch.Tensor) -> torch.Tensor:
    """log p(x) = log of the integral of p(x|z) p(z) over a fine grid in the 2-D latent space."""
    axis = torch.linspace(-7, 7, 281)
    step = float(axis[1] - axis[0])
    z = torch.cartesian_prod(axis, axis)  # (G, 2)
    log_pz = -0.5 * (z.pow(2).sum(1) + 2 * math.log(2 * math.pi))
    logits = vae.decode_logits(z).flatten(1)  # (G, 784)
    target = binary.flatten(1)  # (B, 784)
    log_px_z = target @ torch.nn.functional.logsigmoid(logits).T + (1 - target) @ torch.nn.functional.logsigmoid(-logits).T
    return torch.logsumexp(log_px_z + log_pz, dim=1) + 2 * math.log(step)


def test_importance_sampling_converges_to_the_true_likelihood_from_below():
    vae = tiny(FAMILIES["vae"]).eval()  # latent_dim 2: the integral is computable on a grid
    images = mnist.to_tensor(mnist.load_sample("test").images[:6])
    binary = torch.bernoulli((images + 1) / 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        truth = brute_force_log_likelihood(vae, binary)
        many = vae.importance_log_likelihood(binary, 4000, torch.Generator().manual_seed(1))
        noise = torch.Generator().manual_seed(2)
        elbo = torch.stack([vae.elbo_terms(binary, torch.randn(6, 2, generator=noise))["elbo"] for _ in range(500)])
    assert torch.allclose(many, truth, atol=0.05), (many, truth)
    assert (elbo.mean(0) <= truth + 1e-3).all()  # Jensen: the ELBO never exceeds log p(x)


def test_elbo_terms_add_up_and_kl_is_non_negative():
    vae = tiny(FAMILIES["vae"]).eval()
    binary = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        terms = vae.elbo_terms(binary, torch.zeros(4, 2))
    assert torch.allclose(terms["elbo"], terms["recon"] - terms["kl"])
    assert (terms["kl"] >= 0).all() and (terms["recon"] <= 0).all()


def test_vae_samples_ignore_labels_and_stay_in_range():
    vae = tiny(FAMILIES["vae"]).eval()
    a = vae.sample(3, generator=torch.Generator().manual_seed(0), labels=torch.tensor([1, 2, 3]))
    b = vae.sample(3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.min() >= -1 and a.max() <= 1
