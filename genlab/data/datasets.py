"""The kinds of training data, by the key a family names in `Family.data`."""

from dataclasses import dataclass
from typing import Callable, Dict, Iterator

from genlab.data import corpus, mnist


@dataclass(frozen=True)
class Dataset:
    """How one kind of data is loaded, batched and turned into config values for a new model."""

    load: Callable[..., object]  # (split, *, download) -> a dataset with `.source` and `len()`
    batches: Callable[..., Iterator]  # (dataset, batch_size, *, seed, device, skip, **model.batch_options()) -> endless batches
    tag: str  # what model cards name as the dataset
    derive: Callable[[object], Dict[str, object]] = lambda dataset: {}  # config values a new model takes from it


DATASETS = {
    "mnist": Dataset(load=mnist.load_digits, batches=mnist.image_batches, tag="mnist"),
    "text": Dataset(load=corpus.load_corpus, batches=corpus.text_batches, tag="tiny-shakespeare",
                    derive=lambda text: {"vocab": text.vocab.chars}),
}
