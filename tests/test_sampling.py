"""Request validation (the bounds every caller shares) and the latent helpers."""

import math

import pytest
import torch

from genlab.models import sampling
from genlab.models.base import latent_noise


@pytest.mark.parametrize("args, message", [
    (("11", 4, 0), "digit must be 0-9 or 'mix'"),
    (("-1", 4, 0), "digit must be 0-9"),
    (("3", 10000, 0), "number of samples must be from 1 to 100"),
    (("3", 0, 0), "number of samples must be from 1 to 100"),
    (("3", 2.5, 0), "whole number"),
    (("3", 4, -1), "seed must be from 0 to 2147483647"),
    (("3", 4, float("nan")), "seed must be a finite number"),
    (("3", 4, "7"), "seed must be a finite number"),
    (("²", 4, 0), "digit must be 0-9"),
    (("٣", 4, 0), "digit must be 0-9"),
])
def test_bad_requests_name_the_valid_range(args, message):
    with pytest.raises(ValueError, match=message):
        sampling.digit_request(*args)


def test_truncation_bounds():
    assert sampling.digit_request("3", 1, 0, None).truncation is None
    assert sampling.digit_request("3", 1, 0, 0.5).truncation == 0.5
    with pytest.raises(ValueError, match="truncation must be from 0.1 to 3, got 9"):
        sampling.digit_request("3", 1, 0, 9)


def test_interpolation_needs_one_digit_and_bounded_steps():
    with pytest.raises(ValueError, match="one digit"):
        sampling.interpolation_request("mix", 0, 1, 8)
    with pytest.raises(ValueError, match="steps must be from 2 to 32"):
        sampling.interpolation_request("4", 0, 1, 33)
    assert sampling.interpolation_request(4, 0, 1, 8).digit == 4


def test_labels_and_columns():
    assert sampling.labels_for(12, None).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert sampling.labels_for(3, 7).tolist() == [7, 7, 7]
    assert sampling.columns_for(sampling.digit_request("mix", 64, 0)) == 10
    assert sampling.columns_for(sampling.digit_request("3", 64, 0)) == 8
    assert sampling.columns_for(sampling.digit_request("mix", 4, 0)) == 4


def test_slerp_hits_endpoints_and_keeps_the_norm():
    a, b = torch.randn(2, 1, 64, generator=torch.Generator().manual_seed(0))
    b = b / b.norm() * a.norm()
    path = sampling.slerp(a, b, torch.linspace(0, 1, 5)[:, None])
    assert torch.allclose(path[0], a[0], atol=1e-5) and torch.allclose(path[-1], b[0], atol=1e-5)
    assert torch.allclose(path.norm(dim=1), a.norm().expand(5), rtol=1e-4)


def test_truncated_noise_is_bounded_and_seeded():
    z = latent_noise((1000, 8), torch.Generator().manual_seed(0), torch.device("cpu"), truncation=0.5)
    assert z.abs().max() <= 0.5
    again = latent_noise((1000, 8), torch.Generator().manual_seed(0), torch.device("cpu"), truncation=0.5)
    assert torch.equal(z, again)
    free = latent_noise((20000,), torch.Generator().manual_seed(0), torch.device("cpu"))
    assert math.isclose(float(free.std()), 1.0, rel_tol=0.03)


def test_every_seed_a_person_types_has_the_one_bound():
    from genlab import params
    from genlab.models.base import TrainConfig
    from genlab.models.diffusion import viewer
    from genlab.models.text import generation
    checks = {"sampling": lambda s: sampling.digit_request("3", 1, s).seed,
              "interpolation": lambda s: sampling.interpolation_request("3", 0, s, 2).seed_b,
              "diffusion": lambda s: viewer.diffusion_request("3", 1, s, "ddim", 10, 2.0).seed,
              "text": lambda s: generation.text_request("", 1, 1.0, 0, 1.0, s).seed,
              "training": lambda s: params.build(TrainConfig, {"seed": s}).seed}
    for name, check in checks.items():
        assert check(params.MAX_SEED) == params.MAX_SEED, name
        with pytest.raises(params.RequestError, match=f"must be from 0 to {params.MAX_SEED}"):
            check(params.MAX_SEED + 1)
