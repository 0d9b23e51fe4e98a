"""Judge-based quality metrics for image families, and the judge's own test accuracy.

FID here is the Frechet distance (Heusel et al. 2017) between Gaussians fitted to the judge's
feature layer instead of Inception-v3's, so it is comparable only within genlab. Its floor is
the same distance between 10k real training and 10k real test digits. The classifier
inception score (Salimans et al. 2016, with the judge as classifier) is exp E[KL(p(y|x) || p(y))]:
C for confident, perfectly balanced classes (C = the judge's number of classes, 10 on MNIST).
Distribution match and diversity (genlab.eval.distribution_metrics) and precision and recall
(genlab.eval.precision_recall) are reported with real data's own value beside each: real training
images scored against the same real test images, as the FID floor is.

Nothing here assumes MNIST or ten classes: the number of classes is the judge's output width and
the real images come from `data` (a genlab.data.labelled_images.ImageSplits; MNIST by default).
"""

import dataclasses
from typing import Callable, Dict, Optional

import numpy as np
import torch

from genlab.data import mnist
from genlab.data.labelled_images import ImageSplits, LabelledImages
from genlab.eval.distribution_metrics import FeatureBins, distribution_figures
from genlab.eval.precision_recall import as_points, knn_radii, precision_recall
from genlab.eval.text_metrics import evaluate_text
from genlab.models.base import Family, evaluating

BATCH = 500


def judge_outputs(judge, images: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Features (N, F) and class probabilities (N, C), float64 on the CPU, for images (N, 1, 28, 28) in [-1, 1]."""
    device = next(judge.parameters()).device
    feats, probs = [], []
    with evaluating(judge):
        for chunk in images.split(BATCH):
            f = judge.features(chunk.to(device))
            feats.append(f.double().cpu())
            probs.append(torch.softmax(judge.head(f), dim=1).double().cpu())
    return {"features": torch.cat(feats), "probs": torch.cat(probs)}


def judge_arrays(judge, images: torch.Tensor) -> Dict[str, np.ndarray]:
    """judge_outputs as numpy, for the statistics below (covariances, eigenvalues)."""
    return {k: v.numpy() for k, v in judge_outputs(judge, images).items()}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2), via a symmetric eigen-decomposition."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    # Tr((S_a S_b)^1/2) = sum of sqrt eigenvalues of the PSD matrix S_a^1/2 S_b S_a^1/2
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ s_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004) of two greyscale images in [0, 1]: 11x11 Gaussian
    window, sigma 1.5, K1 0.01, K2 0.03, averaged over the valid region; 1.0 means identical."""
    x = torch.as_tensor(np.stack([a, b]), dtype=torch.float64)[:, None]  # (2, 1, H, W)
    g = torch.exp(-(torch.arange(11, dtype=torch.float64) - 5) ** 2 / (2 * 1.5 ** 2))
    window = (g[:, None] * g[None, :] / g.sum() ** 2)[None, None]
    blur = lambda t: torch.nn.functional.conv2d(t, window)  # noqa: E731
    mu = blur(x)
    mu_a, mu_b = mu[0], mu[1]
    var_a, var_b = blur(x[:1] ** 2)[0] - mu_a ** 2, blur(x[1:] ** 2)[0] - mu_b ** 2
    cov = blur(x[:1] * x[1:])[0] - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(value.mean())


def inception_score(probs: np.ndarray) -> float:
    marginal = probs.mean(0, keepdims=True)
    kl = (probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


def intra_class_diversity(features: np.ndarray, labels: np.ndarray) -> Dict[int, float]:
    """Mean pairwise L2 distance between judge features of images sharing a label, per class present."""
    out = {}
    for c in np.unique(labels).tolist():
        f = torch.from_numpy(features[labels == c])
        if len(f) < 2:
            continue
        d = torch.cdist(f, f)
        out[c] = float(d.sum() / (len(f) * (len(f) - 1)))
    return out


def accuracy_per_digit(predicted: np.ndarray, labels: np.ndarray) -> Dict[int, float]:
    return {c: float((predicted[labels == c] == c).mean()) for c in np.unique(labels).tolist()}


def by_name(per_class: Dict[int, float], classes) -> Dict[str, float]:
    """Per-class figures keyed by the class names (on MNIST "0".."9", as before names existed)."""
    return {classes[c]: v for c, v in per_class.items()}


def _real(split: str, n: int, progress, data: Optional[ImageSplits] = None) -> LabelledImages:
    """Up to `n` images of `data`'s split (default: MNIST's), drawn with seed 0."""
    pictures = data.split(split) if data is not None else mnist.load_digits(split)
    if len(pictures) < n:
        progress(f"warning: only {pictures.source} available; figures will be noisy")
    index = np.random.default_rng(0).permutation(len(pictures))[:n]
    return LabelledImages(pictures.images[index], pictures.labels[index], pictures.source, pictures.classes)


def class_count(probs: np.ndarray, classes) -> int:
    """The judge's number of classes (the width of its (N, C) output); ValueError when the data has
    a different number."""
    width = probs.shape[1]
    if width != len(classes):
        raise ValueError(f"the judge tells {width} classes apart but the data has {len(classes)}: "
                         "score with a judge trained on the same data")
    return width


def match_figures(fake: Dict[str, np.ndarray], real: Dict[str, np.ndarray], bins: FeatureBins,
                  real_radii: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Distribution match, diversity, precision and recall of one scored set against the real reference."""
    return {**distribution_figures(fake, real, bins), **precision_recall(fake["features"], real["features"], real_radii)}


# summary order of the figures from match_figures
MATCH_FIGURES = ("class KL", "class EMD", "feature KL", "feature EMD", "feature entropy", "precision", "recall")


def evaluate_images(family: Family, model, judge, *, n: int = 10000, data: Optional[ImageSplits] = None,
                    progress: Callable[[str], None] = print) -> dict:
    """Score `n` samples (classes asked in turn when conditional; seed 0) of `model` with `judge`,
    against `data`'s test split (default: MNIST), with its training split as the real-data floor.

    Unconditional families are grouped by the judge's verdict for the per-class figures, and get
    no class fidelity (nothing was asked of them)."""
    test, train = _real("test", n, progress, data), _real("train", n, progress, data)
    classes = test.classes
    progress(f"scoring real images ({test.source})")
    real = judge_arrays(judge, mnist.to_tensor(test.images))
    num_classes = class_count(real["probs"], classes)
    floor_set = judge_arrays(judge, mnist.to_tensor(train.images))  # real training images: the floor of each figure
    progress(f"sampling {n} images from {family.name}")
    labels = torch.arange(n) % num_classes  # every class in turn (sampling.labels_for's mix on MNIST)
    generator = torch.Generator().manual_seed(0)
    with evaluating(model):
        fake_images = torch.cat([model.sample(len(l), generator=generator, labels=l).cpu() for l in labels.split(BATCH)])
    fake = judge_arrays(judge, fake_images)
    predicted = fake["probs"].argmax(1)
    groups = labels.numpy() if family.conditional else predicted
    fid = frechet_distance(fake["features"], real["features"])
    floor = frechet_distance(floor_set["features"], real["features"])
    diversity = intra_class_diversity(fake["features"], groups)
    real_diversity = intra_class_diversity(real["features"], test.labels)
    progress("distribution match, diversity, precision and recall (generated and real training vs real test)")
    bins, radii = FeatureBins(real["features"]), knn_radii(as_points(real["features"]))  # shared by both sets
    match, real_match = match_figures(fake, real, bins, radii), match_figures(floor_set, real, bins, radii)
    summary = {
        "FID (judge)": round(fid, 3), "FID floor": round(floor, 3), "FID / floor": round(fid / floor, 2),
        "inception score": round(inception_score(fake["probs"]), 3),
        "inception score (real)": round(inception_score(real["probs"]), 3),
    }
    if family.conditional:
        summary["class fidelity"] = round(float((predicted == groups).mean()), 4)
    if family.sampler_cls is not None:  # scores depend on how the family samples: say how
        summary["sampler"] = ", ".join(f"{k} {v}" for k, v in dataclasses.asdict(family.sampler_cls()).items())
    summary["intra-class diversity"] = round(float(np.mean(list(diversity.values()))), 3)
    summary["intra-class diversity (real)"] = round(float(np.mean(list(real_diversity.values()))), 3)
    for name in MATCH_FIGURES:
        summary[name], summary[f"{name} (real)"] = round(match[name], 4), round(real_match[name], 4)
    result = {
        "family": family.name, "samples": n, "seed": 0, "reference": test.source, "floor_reference": train.source,
        "summary": summary,
        "predicted_histogram": np.bincount(predicted, minlength=num_classes).tolist(),
        "diversity_per_digit": by_name(diversity, classes), "diversity_per_digit_real": by_name(real_diversity, classes),
    }
    if family.conditional:
        result["class_fidelity_per_digit"] = by_name(accuracy_per_digit(predicted, groups), classes)
    for name in family.extra_metrics:
        figures, details = EXTRA[name](model, test, progress)
        summary.update(figures)
        result[name] = details
    return result


LIKELIHOOD_SAMPLES = 200  # importance samples per test digit (k)


def likelihood(model, test: mnist.Digits, progress: Callable[[str], None]) -> tuple:
    """Test NLL by importance sampling, plus the ELBO and its two terms, in nats per image.

    Test digits are binarised once with a fixed seed (dynamic binarisation of the test set)."""
    progress(f"importance-sampled NLL on {len(test)} binarised test digits, k={LIKELIHOOD_SAMPLES}")
    generator = torch.Generator().manual_seed(0)
    device = next(model.parameters()).device
    binary = torch.bernoulli(mnist.to_tensor(test.images).add(1).div(2), generator=generator)
    log_px, elbo, recon, kl = [], [], [], []
    with evaluating(model):
        for chunk in binary.split(100):
            chunk = chunk.to(device)
            log_px.append(model.importance_log_likelihood(chunk, LIKELIHOOD_SAMPLES, generator).cpu())
            eps = torch.randn(len(chunk), model.config.latent_dim, generator=generator).to(device)
            terms = model.elbo_terms(chunk, eps)
            elbo.append(terms["elbo"].cpu())
            recon.append(terms["recon"].cpu())
            kl.append(terms["kl"].cpu())
    mean = lambda parts: float(torch.cat(parts).double().mean())  # noqa: E731
    figures = {f"NLL (nats, k={LIKELIHOOD_SAMPLES})": round(-mean(log_px), 2), "ELBO (nats)": round(mean(elbo), 2),
               "reconstruction (nats)": round(-mean(recon), 2), "KL (nats)": round(mean(kl), 2)}
    details = {"k": LIKELIHOOD_SAMPLES, "test_digits": len(test), "binarisation_seed": 0}
    return figures, details


# family-specific measurements, named by Family.extra_metrics
EXTRA = {"likelihood": likelihood}


def evaluate_classifier(family: Family, model, judge=None, *, n: int = 10000, data: Optional[ImageSplits] = None,
                        progress: Callable[[str], None] = print) -> dict:
    """Test accuracy of a classifier family on `data`'s test split (default: MNIST); `judge` is
    unused: the model judges itself."""
    test = _real("test", n, progress, data)
    progress(f"classifying {len(test)} test images ({test.source})")
    probs = judge_arrays(model, mnist.to_tensor(test.images))["probs"]
    class_count(probs, test.classes)
    predicted = probs.argmax(1)
    accuracy = float((predicted == test.labels).mean())
    return {"family": family.name, "reference": test.source, "summary": {"test accuracy": round(accuracy, 4)},
            "accuracy_per_digit": by_name(accuracy_per_digit(predicted, test.labels), test.classes)}


# what each kind of family is measured by (keyed by Family.output, so families plug in as data)
EVALUATORS = {"image": evaluate_images, "label": evaluate_classifier, "text": evaluate_text}


def evaluate(family: Family, model, judge, *, data: Optional[ImageSplits] = None, **kwargs) -> dict:
    """`family`'s measurements; `data`: the labelled images an image or label family is scored on (default: MNIST)."""
    chosen = {} if data is None else {"data": data}
    return EVALUATORS[family.output](family, model, judge, **chosen, **kwargs)
