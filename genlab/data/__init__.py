"""Training data: downloads, MNIST, text corpora, user images."""
