"""Character-level text: the vocabulary, corpora (tiny-shakespeare or any UTF-8 text) and batches.

Lookup order for tiny-shakespeare: $GENLAB_TEXT_PATH (a file), then $GENLAB_DATA_DIR/../tinyshakespeare
and the user cache, then a download from karpathy's char-rnn repository, checked by SHA-256.
The standard split: the first 90% of characters train, the last 10% validate.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import torch

from genlab.data.download import DataError, cache_root, download_checked

TINY_SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TRAIN_FRACTION = 0.9
MAX_TEXT_BYTES = 20_000_000  # a corpus larger than this is refused, not read
MIN_TEXT_CHARS = 200  # too little text to learn from or to hold out 10% of


class CharVocab:
    """The characters a model knows, in a fixed order; ids are positions in `chars`."""

    def __init__(self, chars: str):
        if not chars or len(set(chars)) != len(chars):
            raise ValueError("a vocabulary needs at least one character and no repeats")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def of(cls, text: str) -> "CharVocab":
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> List[str]:
        """Characters of `text` outside the vocabulary, each once, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._index))

    def encode(self, text: str) -> torch.Tensor:
        """str -> (len,) int64 ids; ValueError listing any characters outside the vocabulary."""
        missing = self.unknown(text)
        if missing:
            raise ValueError(f"{len(missing)} character(s) not in this model's vocabulary: {listing(missing)}")
        return torch.tensor([self._index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in torch.as_tensor(ids).tolist())


def listing(chars: List[str], limit: int = 20) -> str:
    """Characters for a message, quoted so spaces and newlines show: "'a' '\\n' ..." (at most `limit`)."""
    return " ".join(repr(c) for c in chars[:limit]) + (" ..." if len(chars) > limit else "")


@dataclass(frozen=True)
class Corpus:
    text: str  # one split's characters
    vocab: CharVocab  # of the whole corpus (both splits), what a new model is built with
    source: str  # shown to users: where the text came from and how long it is

    def __len__(self) -> int:
        return len(self.text)


def decode_upload(raw, name: str = "text") -> str:
    """UTF-8 text from bytes (or a str), with clear errors for binary, empty, tiny or oversized input."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_TEXT_BYTES:
        raise DataError(f"{name} is {len(raw):,} bytes; at most {MAX_TEXT_BYTES:,} are accepted")
    if b"\x00" in raw:
        raise DataError(f"{name} looks binary (it contains NUL bytes); give plain UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{name} is not UTF-8 text (byte {err.start} cannot be decoded)") from None
    text = text.replace("\r\n", "\n")
    if len(text) < MIN_TEXT_CHARS:
        raise DataError(f"{name} has {len(text)} characters; at least {MIN_TEXT_CHARS} are needed to train")
    return text


def split(text: str, which: str, source: str) -> Corpus:
    """The "train" (first 90%) or "test" (last 10%, the validation split) part of `text`."""
    if which not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {which!r}")
    cut = int(len(text) * TRAIN_FRACTION)
    part = text[:cut] if which == "train" else text[cut:]
    label = "train, first 90%" if which == "train" else "validation, last 10%"
    return Corpus(part, CharVocab.of(text), f"{source} ({label}: {len(part):,} characters)")


def text_cache() -> Path:
    return cache_root() / "text" / "tinyshakespeare.txt"


def _candidates() -> List[Path]:
    env_file, env_dir = os.environ.get("GENLAB_TEXT_PATH"), os.environ.get("GENLAB_DATA_DIR")
    places = [Path(env_file)] if env_file else []
    if env_dir:  # the layout of ../shared/data: mnist/ and tinyshakespeare/ side by side
        places.append(Path(env_dir).parent / "tinyshakespeare" / "input.txt")
    return places + [text_cache()]


def _verified(path: Path) -> str:
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != TINY_SHAKESPEARE_SHA256:
        raise DataError(f"{path.name}: contents differ from tiny-shakespeare (SHA-256 mismatch)")
    return raw.decode("utf-8")


def find_shakespeare() -> Optional[Path]:
    return next((p for p in _candidates() if p.is_file()), None)


def load_shakespeare(*, download: bool = True, timeout: float = 10.0) -> str:
    """The tiny-shakespeare text; DataError saying where it was looked for when it is nowhere.

    Messages name the settings and places looked at, never a folder of this machine: the web app
    shows them to visitors of a server."""
    path = find_shakespeare()
    if path is not None:
        return _verified(path)
    tried = ["$GENLAB_TEXT_PATH", "tinyshakespeare/input.txt beside $GENLAB_DATA_DIR", "genlab's user cache"]
    if download:
        try:
            return _verified(download_checked(TINY_SHAKESPEARE_URL, text_cache(), _verified, timeout,
                                              limit=MAX_TEXT_BYTES + 1))
        except (OSError, DataError) as err:
            reason = err if isinstance(err, DataError) else getattr(err, "reason", None) or type(err).__name__
            tried.append(f"a download from {TINY_SHAKESPEARE_URL} ({reason})")
    raise DataError("tiny-shakespeare not found. Looked at: " + "; ".join(tried) + ". Download input.txt from "
                    f"{TINY_SHAKESPEARE_URL} and set GENLAB_TEXT_PATH to it, or copy it to "
                    "genlab/text/tinyshakespeare.txt in your user cache ($XDG_CACHE_HOME or ~/.cache).")


def load_corpus(which: str = "train", *, download: bool = True) -> Corpus:
    """The tiny-shakespeare split (the default corpus of the text families)."""
    return split(load_shakespeare(download=download), which, "tiny-shakespeare")


def text_batches(corpus: Corpus, batch_size: int, *, seed: int = 0, device: torch.device | str = "cpu",
                 skip: int = 0, vocab: Optional[CharVocab] = None, context: int = 64) -> Iterator[torch.Tensor]:
    """Endless (B, T + 1) windows of ids at random offsets, T = `context`.

    Ids come from `vocab`, the model's own (the corpus's when None), so a resumed or fine-tuned
    model reads text the way it was built; characters it does not know are refused up front.
    `skip` batches are drawn and dropped, so a resumed run sees the batches an uninterrupted one would.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    vocab = vocab if vocab is not None else corpus.vocab
    ids = vocab.encode(corpus.text)
    if len(ids) < context + 2:
        raise DataError(f"{corpus.source}: too short for windows of {context + 1} characters")
    ids = ids.to(device)
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(context + 1, device=device)  # (T + 1,)
    for _ in range(skip):
        torch.randint(len(ids) - context, (batch_size,), generator=generator)
    while True:
        starts = torch.randint(len(ids) - context, (batch_size,), generator=generator).to(device)
        yield ids[starts[:, None] + offsets]  # (B, T + 1)
