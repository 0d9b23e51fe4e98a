"""The GAN family's choices: architecture x objective, the latent distribution and the class count."""

import dataclasses
import itertools

import pytest
import torch
import torch.nn.functional as F

from genlab import weights
from genlab.data import datasets
from genlab.models.gan_losses import OBJECTIVES
from genlab.models.gan_networks import ARCHITECTURES
from genlab.registry import FAMILIES
from genlab.train.loop import train

from conftest import training_data
from tiny_configs import TINY

GAN = FAMILIES["gan"]
TINY_RECIPE = GAN.recipe.__class__(steps=3, batch_size=8, lr=2e-4, beta1=0.5, beta2=0.999)


def tiny_gan(seed=0, **overrides):
    torch.manual_seed(seed)
    return weights.build(GAN, **{**TINY["gan"], "dense_hidden": 16, **overrides})


def real_batch(model, batch_size=8):
    return next(datasets.DATASETS["mnist"].batches(training_data(GAN), batch_size, seed=0, **model.batch_options()))


@pytest.mark.parametrize("architecture, objective", list(itertools.product(ARCHITECTURES, OBJECTIVES)))
def test_every_architecture_and_objective_trains_with_finite_losses(architecture, objective):
    model = tiny_gan(architecture=architecture, objective=objective)
    events = list(train(GAN, model, training_data(GAN), TINY_RECIPE))
    assert [e.step for e in events] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(v)) for e in events for v in e.losses.values())
    images = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert images.shape == (4, 1, 28, 28) and torch.isfinite(images).all()


def test_dense_generator_makes_digits_in_the_tanh_range():
    model = tiny_gan(architecture="dense")
    z = torch.randn(5, model.config.z_dim) * 10  # far out, so tanh saturates if anything does
    images = model.generator(z, torch.arange(5))
    assert images.shape == (5, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert model.discriminator(images, torch.arange(5)).shape == (5,)


def test_uniform_latent_stays_in_minus_one_to_one_and_truncation_narrows_it():
    model = tiny_gan(latent="uniform", z_dim=64)
    z = model.latents(500, generator=torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.99 and z.max() > 0.99  # fills the interval
    narrow = model.latents(500, generator=torch.Generator().manual_seed(0), truncation=0.5)
    assert narrow.abs().max() <= 0.5 and narrow.abs().max() > 0.49
    training = model._noise((500, 64))
    assert training.min() >= -1 and training.max() <= 1
    # the same seed gives the same digits
    first = model.sample(3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, model.sample(3, generator=torch.Generator().manual_seed(7)))


def test_normal_latent_is_the_shipped_standard_normal():
    model = tiny_gan()
    z = model.latents(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(z, torch.randn(4, model.config.z_dim, generator=torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_three_classes_size_the_embeddings_and_the_default_labels(architecture):
    model = tiny_gan(architecture=architecture, classes=3)
    embeddings = [m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    assert embeddings and all(m.num_embeddings == 3 for m in embeddings)
    seen = []
    original = model.generator_ema.forward
    model.generator_ema.forward = lambda z, labels: (seen.append(labels), original(z, labels))[1]
    model.sample(7, generator=torch.Generator().manual_seed(0))
    assert seen[0].tolist() == [0, 1, 2, 0, 1, 2, 0]
    # training draws generated labels among the 3 classes (a label of 3 or more would fail the lookup)
    digits = training_data(GAN)
    keep = digits.labels < 3
    three = dataclasses.replace(digits, images=digits.images[keep], labels=digits.labels[keep],
                                classes=digits.classes[:3])
    assert len(list(train(GAN, model, three, TINY_RECIPE))) == 3


def test_default_config_reproduces_the_non_saturating_loss_exactly():
    model = tiny_gan()
    assert (model.config.architecture, model.config.objective, model.config.latent, model.config.classes) == (
        "dcgan", "non-saturating", "normal", 10)
    batch = real_batch(model)
    model.train()
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    logs = model.training_step(batch, model.configure_optimizers(TINY_RECIPE))
    # the same step by hand from the same weights and random stream: z ~ N(0, 1), labels 0..9, then
    # D's loss softplus(-D(x)) + softplus(D(G(z))) and, after D's update, G's loss softplus(-D(G(z)))
    model.load_state_dict(snapshot)
    model.zero_grad(set_to_none=True)
    optimizers = model.configure_optimizers(TINY_RECIPE)
    torch.manual_seed(5)
    real, labels = batch
    z = torch.randn(len(real), model.config.z_dim)
    fake_labels = torch.randint(0, 10, (len(real),))
    fake = model.generator(z, fake_labels)
    d_real, d_fake = model.discriminator(real, labels), model.discriminator(fake.detach(), fake_labels)
    d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    d_loss.backward()
    optimizers["discriminator"].step()
    g_loss = F.softplus(-model.discriminator(fake, fake_labels)).mean()
    assert (logs["d_loss"], logs["g_loss"]) == (d_loss.item(), g_loss.item())
    assert logs["d_real"] == torch.sigmoid(d_real).mean().item()


def test_article_objective_is_the_listing_as_written():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 3.0])
    article = OBJECTIVES["article"]
    assert article.discriminator(real, fake).item() == pytest.approx(
        (torch.sigmoid(real).mean() - torch.sigmoid(fake).mean()).item())
    assert article.generator(fake).item() == pytest.approx(-torch.sigmoid(fake).mean().item())
    # the sign as written: D lowers its loss by scoring generated digits above real ones
    assert article.discriminator(torch.tensor([-5.0]), torch.tensor([5.0])) < article.discriminator(
        torch.tensor([5.0]), torch.tensor([-5.0]))


def test_unknown_choices_are_refused_with_the_allowed_names():
    from genlab import params
    from genlab.models.gan import GANConfig
    with pytest.raises(params.RequestError, match="architecture must be one of dcgan, dense"):
        params.build(GANConfig, {"architecture": "resnet"})
    with pytest.raises(params.RequestError, match="classes must be from 1 to 100"):
        params.build(GANConfig, {"classes": 0})
