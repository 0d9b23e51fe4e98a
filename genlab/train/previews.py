"""What a run in progress shows: fixed-noise samples (image families), verdicts on held-out
pictures (classifiers) with the judge's view, so learning and mode collapse are visible live, or
a fixed-seed text sample (text families). Captions and the histogram name the data's classes."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch

from genlab.data.labelled_images import DIGIT_CLASSES
from genlab.eval.metrics import judge_outputs
from genlab.models import sampling
from genlab.models.base import Family, evaluating
from genlab.models.text import generation

PREVIEW_SEED = 1234  # the same noise at every preview, so frames differ only by training
PREVIEW_COUNT = 40
PREVIEW_CHARS = 240
CAPTION_CHARS = 7  # a class name under a 28-px picture shown at twice its size: longer names are cut


def short_name(name: str, limit: int = CAPTION_CHARS) -> str:
    """A class name drawable under a small picture: its ASCII part (KMNIST's "お (o)" -> "o"; the captions'
    font has no other scripts), cut to `limit` characters."""
    drawable = "".join(c for c in name if c.isascii() and c.isprintable()).strip(" ()") or "?"
    return drawable if len(drawable) <= limit else drawable[:limit - 1] + "."


@dataclass
class Preview:
    images: Optional[torch.Tensor] = None  # (N, 1, 28, 28) in [-1, 1]
    columns: int = 0
    captions: List[str] = field(default_factory=list)  # one per image (empty: none)
    correct: List[bool] = field(default_factory=list)
    histogram: Optional[List[int]] = None  # the judge's predicted class counts (image families)
    scores: Dict[str, float] = field(default_factory=dict)  # one-number summaries for the status line
    text: str = ""  # text families: a sample instead of images
    classes: Sequence[str] = DIGIT_CLASSES  # label i's name: the histogram's bars, in label order


def _captions(names: Sequence[str], labels: List[int], confidence: Optional[List[float]] = None) -> List[str]:
    """"circle 97%" under each picture (the class name alone without a confidence)."""
    if confidence is None:
        return [short_name(names[p]) for p in labels]
    return [f"{short_name(names[p])} {c:.0%}" for p, c in zip(labels, confidence)]


def columns_for_classes(classes: int) -> int:
    """About ten columns, a whole number of rounds of the classes (the mix asks for them in turn), so that
    each column shows one class: 8 for 4 classes, 9 for 3."""
    return classes * max(1, 10 // classes) if classes <= 10 else 10


def image_preview(family: Family, model, judge, held_out, names: Sequence[str]) -> Preview:
    """Samples from fixed noise; with a judge of the same data, its verdict under each; without one, the
    class each was asked for (conditional families) or no captions."""
    request = sampling.digit_request("mix", PREVIEW_COUNT, PREVIEW_SEED)
    samples = sampling.sample_digits(model, request)
    classes = sampling.classes_of(model)
    asked = sampling.labels_for(request.n, request.digit, classes)
    preview = Preview(samples, columns_for_classes(classes), classes=names)
    if judge is None:
        if family.conditional:
            preview.captions, preview.correct = _captions(names, asked.tolist()), [True] * request.n
    else:
        confidence, predicted = judge_outputs(judge, samples)["probs"].max(1)
        preview.captions = _captions(names, predicted.tolist(), confidence.tolist())
        preview.histogram = torch.bincount(predicted, minlength=classes).tolist()
        if family.conditional:  # red where the class asked for is not the one the judge sees
            right = predicted == asked
            preview.correct = right.tolist()
            preview.scores["judge agrees"] = right.double().mean().item()
        else:  # nothing was asked: red where the judge cannot tell which class it is
            sure = confidence >= 0.5
            preview.correct = sure.tolist()
            preview.scores["judge is sure"] = sure.double().mean().item()
    return preview


def label_preview(family: Family, model, judge, held_out, names: Sequence[str]) -> Preview:
    images, labels = held_out
    confidence, predicted = judge_outputs(model, images)["probs"].max(1)
    right, shown = predicted == labels.cpu(), slice(0, PREVIEW_COUNT)
    captions = _captions(names, predicted[shown].tolist(), confidence[shown].tolist())
    return Preview(images[shown].cpu(), 10, captions, right[shown].tolist(),
                   torch.bincount(predicted, minlength=sampling.classes_of(model)).tolist(),
                   {"held-out accuracy": right.double().mean().item()}, classes=names)


def text_preview(family: Family, model, judge, held_out, names: Sequence[str]) -> Preview:
    """The same seed every time, from a newline, at temperature 0.8: frames differ only by training."""
    request = generation.text_request("", PREVIEW_CHARS, 0.8, 0, 1.0, PREVIEW_SEED)
    with evaluating(model):
        text = generation.generate_text(model, request)
    return Preview(text=text)


# what a run shows, by the kind of thing the family outputs
PREVIEWS = {"image": image_preview, "label": label_preview, "text": text_preview}


def preview(family: Family, model, judge, held_out, names: Sequence[str] = DIGIT_CLASSES) -> Preview:
    """What a run shows now; `names`: label i's name in the data it trains on (its judge's too)."""
    return PREVIEWS[family.output](family, model, judge, held_out, names)
