"""What the character-level text families' configs share: the default vocabulary and tiny test sizes (no torch)."""

from genlab.params import param

# the 65 characters of tiny-shakespeare, sorted: the vocabulary a model gets when none is derived from data
SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

TEXT_TINY = {"context": 16}  # config overrides every text family uses in fast tests


def vocab_param():
    """The config field holding a text model's vocabulary: set from the training text, not by hand."""
    return param(SHAKESPEARE_CHARS, "the characters the model knows (set from the training text)", derived=True)
