"""A diffusers pipeline for genlab's class-conditional digit model, standalone: torch and diffusers only.

`python -m genlab export diffusion --format diffusers --out DIR` copies this file into DIR as
`pipeline.py` and names it in DIR/model_index.json (`_class_name: ["pipeline", "DigitDiffusionPipeline"]`,
diffusers' custom-pipeline convention), so the folder loads where genlab is not installed:

    pipe = DiffusionPipeline.from_pretrained(DIR, trust_remote_code=True)  # runs DIR/pipeline.py
    digits = pipe(class_labels=[7] * 8, generator=torch.Generator().manual_seed(0)).images  # 8 PIL images

It samples exactly as genlab.models.diffusion.denoising.trajectory does: the starting noise from
`generator` in one draw (on the CPU when no generator is given), classifier-free guidance in one batched
call eps = eps(x, null) + w * (eps(x, y) - eps(x, null)) (Ho & Salimans 2022), and the scheduler's
own stepping with the same generator, so one seed gives genlab's digits. Any diffusers scheduler can be
swapped in the usual way; genlab's other solvers are
    DDIMScheduler.from_config(pipe.scheduler.config, clip_sample=False)
    DDPMScheduler.from_config(pipe.scheduler.config)
    DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++")
Nothing here may import genlab: the exported folder must work without it.
"""

import inspect
from typing import List, Optional, Union

import torch
from diffusers import DiffusionPipeline, ImagePipelineOutput, SchedulerMixin, UNet2DModel

# genlab's default sampler (genlab.models.diffusion.schedulers: sde-dpm++, 20 steps, guidance 1.2),
# which its measured figures use; tests/test_export.py checks they agree
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE = 1.2


class DigitDiffusionPipeline(DiffusionPipeline):
    """Class-conditional 28x28 digits from a UNet2DModel whose last class embedding means "no label".

    unet: predicts the noise eps from (x_t, t, class_labels); num_class_embeds = classes + 1.
    scheduler: any diffusers scheduler built on the training noise schedule (epsilon prediction)."""

    model_cpu_offload_seq = "unet"

    def __init__(self, unet: UNet2DModel, scheduler: SchedulerMixin):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)

    @property
    def null_label(self) -> int:
        """The label that asks for no particular digit (the extra embedding row, 10 for digits)."""
        return self.unet.config.num_class_embeds - 1

    def guided_noise(self, x: torch.Tensor, t, labels: torch.Tensor, guidance: float) -> torch.Tensor:
        """The guided noise prediction for x (B, C, H, W); both branches in one batched call."""
        null = self.null_label
        if guidance == 1.0 or bool((labels == null).all()):
            return self.unet(x, t, class_labels=labels).sample
        if guidance == 0.0:
            return self.unet(x, t, class_labels=torch.full_like(labels, null)).sample
        both = self.unet(torch.cat([x, x]), t, class_labels=torch.cat([labels, torch.full_like(labels, null)])).sample
        conditional, unconditional = both.chunk(2)
        return unconditional + guidance * (conditional - unconditional)

    def labels_tensor(self, class_labels) -> torch.Tensor:
        """(B,) int64 labels from an int, a list or a tensor; ValueError outside 0..null_label."""
        labels = torch.as_tensor([class_labels] if isinstance(class_labels, int) else class_labels)
        labels = labels.reshape(-1)
        if labels.numel() == 0 or labels.is_floating_point() or labels.is_complex():
            raise ValueError("class_labels must be one or more whole numbers (a digit 0-9 each)")
        if bool(((labels < 0) | (labels > self.null_label)).any()):
            raise ValueError(f"class_labels must lie in 0..{self.null_label} "
                             f"({self.null_label}: no particular class), got {labels.tolist()}")
        return labels.long()

    @torch.no_grad()
    def __call__(self, class_labels: Union[int, List[int], torch.Tensor], guidance_scale: float = DEFAULT_GUIDANCE,
                 num_inference_steps: int = DEFAULT_STEPS, generator: Optional[torch.Generator] = None,
                 output_type: str = "pil", return_dict: bool = True):
        """One image per label; output_type "pil" (mode L images), "np" (B, H, W, 1) or "pt" (B, 1, H, W),
        all in [0, 1] (white ink on black, like MNIST). guidance_scale w: 1 the plain conditional model,
        0 ignores the label, above 1 clearer digits with less variety."""
        if output_type not in ("pil", "np", "pt"):
            raise ValueError(f"output_type must be 'pil', 'np' or 'pt', got {output_type!r}")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        device = self.unet.device
        labels = self.labels_tensor(class_labels).to(device)
        size = self.unet.config.sample_size
        shape = (len(labels), self.unet.config.in_channels, size, size)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        # one draw on the generator's device (the CPU by default), as genlab and diffusers' pipelines do,
        # so a seed gives the same digits on every device
        noise_device = generator.device if generator is not None else torch.device("cpu")
        x = torch.randn(shape, generator=generator, device=noise_device).to(device, self.unet.dtype)
        x = x * self.scheduler.init_noise_sigma
        takes_generator = "generator" in inspect.signature(self.scheduler.step).parameters  # PNDM, LMS do not
        extra = {"generator": generator} if takes_generator else {}
        for t in self.progress_bar(self.scheduler.timesteps):
            eps = self.guided_noise(self.scheduler.scale_model_input(x, t), t, labels, guidance_scale)
            x = self.scheduler.step(eps, t, x, **extra).prev_sample
        images = x.clamp(-1, 1).add(1).mul(0.5).float().cpu()  # (B, 1, H, W) in [0, 1]
        if output_type != "pt":
            images = images.permute(0, 2, 3, 1).numpy()  # (B, H, W, 1)
            if output_type == "pil":
                images = self.numpy_to_pil(images)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (images,)
        return ImagePipelineOutput(images=images)
