"""The weights in weights/ load strictly and do what their metrics say."""

import json

import numpy as np
import pytest

from genlab import weights
from genlab.data import mnist
from genlab.eval.metrics import judge_arrays
from genlab.models import sampling
from genlab.registry import FAMILIES


@pytest.mark.parametrize("name", list(FAMILIES))
def test_shipped_weights_load_strictly_with_their_metrics(name):
    family = FAMILIES[name]
    model = weights.load(family)  # strict: every key and shape must match the config
    assert not model.training
    metrics = json.loads((weights.shipped(family) / "metrics.json").read_text())
    assert metrics["family"] == name and metrics["summary"]


@pytest.fixture(scope="module")
def judge():
    return weights.load(FAMILIES["judge"])


def test_judge_classifies_the_bundled_real_test_digits(judge):
    test = mnist.load_sample("test")
    probs = judge_arrays(judge, mnist.to_tensor(test.images))["probs"]
    assert (probs.argmax(1) == test.labels).mean() >= 0.99


def test_judge_metrics_meet_the_target():
    metrics = json.loads((weights.shipped(FAMILIES["judge"]) / "metrics.json").read_text())
    assert metrics["summary"]["test accuracy"] >= 0.993 and "full" in metrics["reference"]


@pytest.mark.parametrize("digit", range(10))
def test_judge_recognises_gan_samples_of_the_requested_digit(judge, digit):
    gan = weights.load(FAMILIES["gan"])
    samples = sampling.sample_digits(gan, sampling.digit_request(digit, 50, 1234))
    predicted = judge_arrays(judge, samples)["probs"].argmax(1)
    assert (predicted == digit).mean() >= 0.9


def test_gan_metrics_hold_their_measured_level():
    summary = json.loads((weights.shipped(FAMILIES["gan"]) / "metrics.json").read_text())["summary"]
    assert summary["class fidelity"] >= 0.98  # target met
    assert summary["inception score"] >= 9.5  # target met
    assert summary["FID (judge)"] <= 3.0 * summary["FID floor"]  # target met


def test_judge_recognises_diffusion_samples_of_every_digit(judge):
    from genlab.models.diffusion import schedulers
    model = weights.load(FAMILIES["diffusion"])
    samples = sampling.sample_digits(model, sampling.digit_request("mix", 40, 99), schedulers.SamplerSettings())
    predicted = judge_arrays(judge, samples)["probs"].argmax(1)
    assert (predicted == np.arange(40) % 10).mean() >= 0.9


def test_diffusion_metrics_hold_their_measured_level():
    diffusion = json.loads((weights.shipped(FAMILIES["diffusion"]) / "metrics.json").read_text())
    summary = diffusion["summary"]
    assert diffusion["samples"] == 10000 and "full" in diffusion["reference"]
    assert summary["class fidelity"] >= 0.98  # target met
    assert summary["inception score"] >= 9.5
    # target met; its other target, "below the GAN's FID", was met against the GAN of that time (15.54)
    # and no longer holds since the GAN's learning-rate decay phase (8.90)
    assert summary["FID / floor"] <= 3.0
    assert summary["sampler"].startswith("scheduler ")  # how it was sampled is on record


def test_vae_reconstructions_are_still_recognised_by_the_judge(judge):
    from genlab.models import vae
    model = weights.load(FAMILIES["vae"])
    test = mnist.load_sample("test")
    index = np.arange(0, len(test), 5)  # a fixed set of 200 test digits, 20 per class
    recon = vae.reconstruct(model, test.images[index])
    predicted = judge_arrays(judge, recon)["probs"].argmax(1)
    assert (predicted == test.labels[index]).mean() >= 0.95


def test_vae_metrics_are_recorded_with_k_and_prior_fid():
    metrics = json.loads((weights.shipped(FAMILIES["vae"]) / "metrics.json").read_text())
    summary = metrics["summary"]
    assert metrics["likelihood"]["k"] >= 100
    assert summary["KL (nats)"] > 0 and summary["ELBO (nats)"] < -summary["NLL (nats, k=200)"] + 1e-6
    assert summary["FID (judge)"] > 0 and summary["FID floor"] > 0


# the targets in nats per character on tiny-shakespeare's validation split (a 5-gram model: 1.669)
TEXT_TARGETS = {"gpt": 1.55, "lstm": 1.60}


@pytest.mark.parametrize("name", sorted(TEXT_TARGETS))
def test_text_metrics_beat_the_5_gram_baseline_and_meet_the_target(name):
    summary = json.loads((weights.shipped(FAMILIES[name]) / "metrics.json").read_text())["summary"]
    assert summary["val loss (nats/char)"] < 1.669
    assert summary["val loss (nats/char)"] <= TEXT_TARGETS[name]


@pytest.mark.parametrize("name", sorted(TEXT_TARGETS))
def test_shipped_text_models_write_english_they_never_saw(name):
    """On original prose (not Shakespeare), a trained model is far better than chance (ln 65 = 4.17 nats)."""
    from genlab.eval import text_metrics
    from genlab.models.text import generation

    from conftest import TEXT
    model = weights.load(FAMILIES[name])
    loss, _ = text_metrics.sliding_loss(model, model.vocab.encode(TEXT[:1000]), model.context)
    assert loss < 2.2
    text = generation.generate_text(model, generation.text_request("ROMEO:", 300, 0.8, seed=0))
    assert not model.vocab.unknown(text) and len(text) == 300
    words = text.split()
    assert len(words) > 30 and sum(w.strip(".,;:!?'").isalpha() for w in words) / len(words) > 0.8
