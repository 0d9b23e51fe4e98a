"""genlab: a hands-on lab for generative models (GAN, VAE, text, diffusion)."""

from pathlib import Path

__version__ = "0.1.0"

REPO = Path(__file__).resolve().parent.parent  # the repository: app.py, genlab/, weights/
