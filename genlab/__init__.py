"""genlab: a hands-on lab for generative models (GAN, VAE, text, diffusion)."""

__version__ = "0.1.0"
