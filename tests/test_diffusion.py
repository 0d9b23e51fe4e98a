"""The diffusion family's sampling: the loop against diffusers' own pipelines, guidance, requests, the viewer."""

import copy
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest
import torch
from diffusers import DDIMPipeline, DDPMPipeline, UNet2DModel

from genlab.models.diffusion import denoising, schedulers, viewer
from genlab.params import RequestError
from genlab.registry import FAMILIES

from conftest import tiny

FAMILY = FAMILIES["diffusion"]


@pytest.fixture(scope="module")
def model():
    m = tiny(FAMILY)
    with torch.no_grad():  # a random tiny UNet predicts almost nothing; make its outputs matter
        for p in m.unet_ema.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return m.eval()


def _recorded(scheduler, into: list):
    step = scheduler.step

    def recording(*args, **kwargs):
        out = step(*args, **kwargs)
        into.append(out.prev_sample.clone())
        return out
    scheduler.step = recording


@pytest.mark.parametrize("name, pipeline_cls", [("ddim", DDIMPipeline), ("ddpm", DDPMPipeline)])
def test_our_loop_matches_the_diffusers_pipeline_step_for_step(model, name, pipeline_cls):
    """Same UNet, scheduler and seeded noise: every intermediate x_t and the result agree."""
    labels = torch.tensor([3, 3, 7])
    ours = list(denoising.trajectory(model.unet_ema, schedulers.make_scheduler(model.scheduler_config(), name), labels,
                                     null=model.null_label, shape=(1, 28, 28),
                                     generator=torch.Generator().manual_seed(5), steps=8, guidance=1.0))
    unet = copy.deepcopy(model.unet_ema)
    unet.forward = partial(UNet2DModel.forward, unet, class_labels=labels)  # the pipeline knows no labels
    pipe = pipeline_cls(unet=unet, scheduler=schedulers.make_scheduler(model.scheduler_config(), name))
    pipe.set_progress_bar_config(disable=True)
    theirs = []
    _recorded(pipe.scheduler, theirs)
    out = pipe(batch_size=3, generator=torch.Generator().manual_seed(5), num_inference_steps=8, output_type="np")
    assert len(theirs) == len(ours) == 8
    for frame, x in zip(ours, theirs):
        torch.testing.assert_close(frame.noisy, x, atol=1e-5, rtol=1e-5)
    final = (ours[-1].noisy / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(final, out.images, atol=1e-5)
    assert ours[-1].noisy.abs().max() > 0.1  # not trivially zero


def test_guidance_extrapolates_from_the_unconditional_prediction(model):
    x, t = torch.randn(2, 1, 28, 28), torch.tensor(500)
    labels, null = torch.tensor([1, 8]), model.null_label
    cond = model.unet_ema(x, t, class_labels=labels).sample
    uncond = model.unet_ema(x, t, class_labels=torch.full_like(labels, null)).sample
    torch.testing.assert_close(denoising.guided_noise(model.unet_ema, x, t, labels, null, 1.0), cond)
    torch.testing.assert_close(denoising.guided_noise(model.unet_ema, x, t, labels, null, 0.0), uncond)
    torch.testing.assert_close(denoising.guided_noise(model.unet_ema, x, t, labels, null, 3.0),
                               uncond + 3.0 * (cond - uncond), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("scheduler", list(schedulers.SCHEDULERS))
def test_every_scheduler_is_seeded_and_in_range(model, scheduler):
    settings = schedulers.SamplerSettings(scheduler, 4, 2.0)
    a, b, c = (model.sample(4, generator=torch.Generator().manual_seed(s), settings=settings) for s in (1, 1, 2))
    assert a.shape == (4, 1, 28, 28) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("args, message", [
    (("3", 65, 0, "ddim", 25, 2.0), "number of samples must be from 1 to 64"),
    (("3", 4, -1, "ddim", 25, 2.0), "seed must be from 0"),
    (("11", 4, 0, "ddim", 25, 2.0), "digit must be 0-9"),
    (("3", 4, 0, "euler", 25, 2.0), "scheduler must be one of ddpm, ddim, dpm++, sde-dpm++"),
    (("3", 4, 0, "dpm++", 500, 2.0), "steps for dpm++ must be from 1 to 200"),
    (("3", 4, 0, "ddpm", 1001, 2.0), "steps for ddpm must be from 1 to 1000"),
    (("3", 4, 0, "ddim", 0, 2.0), "steps for ddim must be from 1 to 1000"),
    (("3", 4, 0, "ddim", 25, 11.0), "guidance must be from 0 to 10"),
])
def test_bad_requests_name_the_valid_range(args, message):
    with pytest.raises(RequestError, match=message.replace("+", r"\+")):
        viewer.diffusion_request(*args)


def test_none_asks_for_no_digit():
    request = viewer.diffusion_request("none", 5, 0, "ddim", 5, 3.0)
    assert request.unconditional and request.digit is None
    assert viewer.labels(request, 10).tolist() == [10] * 5
    assert viewer.labels(viewer.diffusion_request("mix", 12, 0, "ddim", 5, 1.0), 10).tolist() == \
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


@pytest.mark.parametrize("steps", [1, 2, 7, 40, 41, 1000])
def test_kept_steps_are_evenly_spread_and_include_both_ends(steps):
    kept = viewer.kept_steps(steps)
    assert min(kept) == 1 and max(kept) == steps
    assert len(kept) == min(steps, viewer.KEPT_FRAMES)


def test_the_viewer_shows_exactly_the_samples_the_model_makes(model):
    request = viewer.diffusion_request("mix", 6, 4, "dpm++", 12, 2.0)
    views = list(viewer.watch(model, request, frame_seconds=0.0))
    assert [v.index for v in views] == list(range(1, 13))
    assert all(v.noisy is not None and v.clean.shape == v.noisy.shape for v in views)  # no throttling at 0 s
    last = views[-1]
    assert last.done and len(last.kept) == 12
    expected = model.sample(6, generator=torch.Generator().manual_seed(4), settings=request.settings)
    torch.testing.assert_close(last.samples, expected)
    # early guesses of x_0 differ from the final digits; by the end they agree
    assert not np.array_equal(last.kept[0][3], last.kept[-1][3])


def test_the_viewer_throttles_live_pictures_but_keeps_frames(model):
    request = viewer.diffusion_request("3", 2, 0, "ddim", 30, 1.0)
    views = list(viewer.watch(model, request, frame_seconds=3600))
    shown = [v.index for v in views if v.noisy is not None]
    assert shown == [1, 30]  # the first frame at once, then only the finished one
    assert len(views[-1].kept) == 30


def test_scrubbing_outside_the_kept_frames_is_refused():
    with pytest.raises(RequestError, match="sample first"):
        viewer.check_kept([], 0)
    with pytest.raises(RequestError, match="frame must be from 0 to 1"):
        viewer.check_kept([(1, 999, None, None), (2, 0, None, None)], 2)


def test_unset_settings_take_each_schedulers_own_steps_and_guidance():
    assert schedulers.SamplerSettings.checked() == schedulers.SamplerSettings("sde-dpm++", 20, 1.2)
    assert schedulers.SamplerSettings.checked("ddim") == schedulers.SamplerSettings("ddim", 25, 2.0)
    assert schedulers.SamplerSettings.checked("dpm++", guidance=3.0) == schedulers.SamplerSettings("dpm++", 10, 3.0)


def _modes() -> tuple:
    return torch.is_inference_mode_enabled(), torch.is_grad_enabled()


def test_a_viewer_advanced_on_one_thread_and_closed_on_another_leaves_no_mode_behind(model):
    """Gradio advances a streaming handler on one worker thread and may close it on another."""
    request = viewer.diffusion_request("3", 2, 0, "ddim", 5, 1.0)
    views = viewer.watch(model, request)
    with ThreadPoolExecutor(1) as advancing, ThreadPoolExecutor(1) as closing:
        advancing.submit(next, views).result()
        assert advancing.submit(_modes).result() == (False, True)
        closing.submit(views.close).result()
        assert advancing.submit(_modes).result() == (False, True)
        assert closing.submit(_modes).result() == (False, True)
