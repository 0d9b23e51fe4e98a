"""The kinds of training data, by the key a family names in `Family.data`."""

import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Optional

from genlab.data import corpus, image_sets, mnist
from genlab.data import points2d


@dataclass(frozen=True)
class Dataset:
    """How one kind of data is loaded, batched and turned into config values for a new model."""

    load: Callable[..., object]  # (split, *, download) -> a dataset with `.source` and `len()`
    batches: Callable[..., Iterator]  # (dataset, batch_size, *, seed, device, skip, **model.batch_options()) -> endless batches
    tag: str  # what model cards name as the dataset
    derive: Callable[[object], Dict[str, object]] = lambda dataset: {}  # config values a new model takes from it
    # `--data VALUE` -> (train, held-out) splits of another set of this kind; None: the kind has one source
    choose: Optional[Callable[..., object]] = None


DATASETS = {
    # labelled 28x28 pictures: MNIST by default, or any set `--data` names (genlab.data.image_sets)
    "mnist": Dataset(load=mnist.load_digits, batches=mnist.image_batches, tag="mnist",
                     derive=lambda images: {"classes": images.num_classes}, choose=image_sets.load_image_data),
    "text": Dataset(load=corpus.load_corpus, batches=corpus.text_batches, tag="tiny-shakespeare",
                    derive=lambda text: {"vocab": text.vocab.chars}),
    "points2d": Dataset(load=points2d.load_points, batches=points2d.point_batches, tag="2-D toy points"),
}


def derived_config(family, data) -> Dict[str, object]:
    """The config values a new model of `family` (a genlab.models.base.Family) takes from its training
    data: those its data kind's `derive` gives that its config has fields for (a VAE has no class count)."""
    fields = {f.name for f in dataclasses.fields(family.config_cls)}
    return {k: v for k, v in DATASETS[family.data].derive(data).items() if k in fields}
