"""The one denoising loop for the diffusion family, with diffusers' schedulers doing the maths.

Every caller (the model's `sample`, the CLI, the tab's streaming viewer, the benchmark) runs
`trajectory`, so the pictures people watch are exactly the samples the metrics score.
Classifier-free guidance (Ho & Salimans 2022): eps = eps(x, null) + w * (eps(x, y) - eps(x, null));
w = 1 is the plain conditional model, w = 0 ignores the label, w > 1 trades variety for clearer digits.
The solvers people choose, and their checked settings, are in genlab.schedulers.
"""

from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import torch


@dataclass(frozen=True)
class Frame:
    index: int  # solver steps done (1..steps)
    steps: int
    timestep: int  # the training timestep t this step started from
    noisy: torch.Tensor  # x_{t-1} after the step, (B, 1, H, W), on the model's device
    clean: torch.Tensor  # the model's guess of x_0 at this step, clipped to [-1, 1], (B, 1, H, W)


def guided_noise(unet, x: torch.Tensor, t, labels: torch.Tensor, null: int, guidance: float) -> torch.Tensor:
    """The guided noise prediction for x (B, C, H, W); one batched call for both branches."""
    if guidance == 1.0 or bool((labels == null).all()):
        return unet(x, t, class_labels=labels).sample
    if guidance == 0.0:
        return unet(x, t, class_labels=torch.full_like(labels, null)).sample
    both = unet(torch.cat([x, x]), t, class_labels=torch.cat([labels, torch.full_like(labels, null)])).sample
    conditional, unconditional = both.chunk(2)
    return unconditional + guidance * (conditional - unconditional)


def predicted_clean(x: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t): eq. 15 of Ho et al. 2020, clipped for display."""
    return ((x - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1, 1)


def trajectory(unet, scheduler, labels: torch.Tensor, *, null: int, shape: Tuple[int, int, int],
               generator: torch.Generator, steps: int, guidance: float) -> Iterator[Frame]:
    """Denoise len(labels) images of `shape` from seeded noise, yielding a Frame after every step.

    The starting noise and any noise a stochastic solver adds come from `generator` on the CPU, as
    in diffusers pipelines, so a seed gives the same digits on every device."""
    device = next(unet.parameters()).device
    labels = labels.to(device)
    scheduler.set_timesteps(steps, device=device)
    x = torch.randn((len(labels), *shape), generator=generator).to(device) * scheduler.init_noise_sigma
    alphas = scheduler.alphas_cumprod.to(device)
    for i, t in enumerate(scheduler.timesteps):
        eps = guided_noise(unet, scheduler.scale_model_input(x, t), t, labels, null, guidance)
        clean = predicted_clean(x, eps, alphas[t])
        x = scheduler.step(eps, t, x, generator=generator).prev_sample
        yield Frame(i + 1, len(scheduler.timesteps), int(t), x, clean)


def final(frames: Iterator[Frame]) -> Optional[Frame]:
    last = None
    for last in frames:
        pass
    return last

