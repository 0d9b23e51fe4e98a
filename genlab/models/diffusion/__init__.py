"""Denoising diffusion: the UNet family, its schedulers and sampling loop."""
