"""What a run in progress shows: fixed-noise samples (image families), verdicts on held-out
digits (classifiers) with the judge's view, so learning and mode collapse are visible live, or
a fixed-seed text sample (text families)."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch

from genlab.eval.metrics import judge_outputs
from genlab.models import sampling
from genlab.models.base import Family, evaluating
from genlab.models.text import generation

PREVIEW_SEED = 1234  # the same noise at every preview, so frames differ only by training
PREVIEW_COUNT = 40
PREVIEW_CHARS = 240


@dataclass
class Preview:
    images: Optional[torch.Tensor] = None  # (N, 1, 28, 28) in [-1, 1]
    columns: int = 0
    captions: List[str] = field(default_factory=list)  # one per image (empty: none)
    correct: List[bool] = field(default_factory=list)
    histogram: Optional[List[int]] = None  # the judge's predicted class counts (image families)
    scores: Dict[str, float] = field(default_factory=dict)  # one-number summaries for the status line
    text: str = ""  # text families: a sample instead of images


def image_preview(family: Family, model, judge, held_out) -> Preview:
    request = sampling.digit_request("mix", PREVIEW_COUNT, PREVIEW_SEED)
    samples = sampling.sample_digits(model, request)
    preview = Preview(samples, sampling.columns_for(request))
    if judge is not None:
        confidence, predicted = judge_outputs(judge, samples)["probs"].max(1)
        preview.captions = [f"{p} {c:.0%}" for p, c in zip(predicted.tolist(), confidence.tolist())]
        preview.histogram = torch.bincount(predicted, minlength=10).tolist()
        if family.conditional:  # red where the digit asked for is not the one the judge sees
            right = predicted == sampling.labels_for(request.n, request.digit)
            preview.correct = right.tolist()
            preview.scores["judge agrees"] = right.double().mean().item()
        else:  # nothing was asked: red where the judge cannot tell which digit it is
            sure = confidence >= 0.5
            preview.correct = sure.tolist()
            preview.scores["judge is sure"] = sure.double().mean().item()
    return preview


def label_preview(family: Family, model, judge, held_out) -> Preview:
    images, labels = held_out
    confidence, predicted = judge_outputs(model, images)["probs"].max(1)
    right, shown = predicted == labels.cpu(), slice(0, PREVIEW_COUNT)
    captions = [f"{p} {c:.0%}" for p, c in zip(predicted[shown].tolist(), confidence[shown].tolist())]
    return Preview(images[shown].cpu(), 10, captions, right[shown].tolist(),
                   torch.bincount(predicted, minlength=10).tolist(), {"held-out accuracy": right.double().mean().item()})


def text_preview(family: Family, model, judge, held_out) -> Preview:
    """The same seed every time, from a newline, at temperature 0.8: frames differ only by training."""
    request = generation.text_request("", PREVIEW_CHARS, 0.8, 0, 1.0, PREVIEW_SEED)
    with evaluating(model):
        text = generation.generate_text(model, request)
    return Preview(text=text)


# what a run shows, by the kind of thing the family outputs
PREVIEWS = {"image": image_preview, "label": label_preview, "text": text_preview}


def preview(family: Family, model, judge, held_out) -> Preview:
    return PREVIEWS[family.output](family, model, judge, held_out)
