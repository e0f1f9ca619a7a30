"""Captioned images of handwritten digit strings (chapter 9).

The images are scikit-learn's handwritten digits
(``sklearn.datasets.load_digits``: 1797 grey images of 8 x 8 pixels with
values 0..16, shipped inside the package, so nothing is downloaded).

A *captioned image* is made from L source images (1 <= L <= L_max, drawn
uniformly), pasted left to right into the slots of a blank canvas of
8 x 8 L_max pixels (slots after the L-th stay 0), pixels divided by 16.
Its caption is the English words of the L labels, in the same order:

    image of 3, 1, 4   ->   "three one four"

The source images are split once into training and test images (a
seeded permutation): a training canvas only ever uses training images
and a test canvas test images, so no digit image is in both sets.

Tokens: the ten words "zero" ... "nine" are tokens 0..9, END is 10 and
START is 11 (V = 12). ``tokens`` (B, L_max + 1) holds each caption's
words then END, padded with END; ``lengths`` (B,) the number of words.

``random_conv_features`` stands in for the convolutional network of the
captioning papers: one convolution with F fixed random 8 x 8 filters
(seeded Gaussian weights, zero mean), stride 8 (one response per slot),
and a ReLU, concatenated over the slots: v (B, F L_max).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend import make_rng

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven",
         "eight", "nine")
END, START = 10, 11
VOCAB = WORDS + ("<end>", "<start>")
SIDE = 8


class Digits(NamedTuple):
    """The source images (N, 8, 8) in [0, 1] and their labels (N,)."""

    images: np.ndarray
    labels: np.ndarray


class Captioned(NamedTuple):
    """Canvases (B, 8, 8 L_max), tokens (B, L_max + 1), lengths (B,),
    and the indices of the source images used, (B, L_max) (-1: none)."""

    images: np.ndarray
    tokens: np.ndarray
    lengths: np.ndarray
    sources: np.ndarray


def load_digits() -> Digits:
    """scikit-learn's 1797 handwritten digits, pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as exc:  # pragma: no cover - depends on the env
        raise ImportError(
            "the captioning data needs scikit-learn (its digits ship "
            "inside the package): pip install scikit-learn, or install "
            "the course with the 'book' extra") from exc
    d = _load()
    return Digits(d.images.astype(np.float64) / 16.0,
                  d.target.astype(np.int64))


def split_sources(n: int, test_fraction: float, seed) -> tuple:
    """Disjoint (train, test) index arrays of n source images."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got "
                         f"{test_fraction}")
    order = make_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def compose(digits: Digits, pool, B: int, max_digits: int, seed,
            min_digits: int = 1) -> Captioned:
    """B captioned canvases made only of the source images in ``pool``."""
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got "
                         f"{min_digits} and {max_digits}")
    pool = np.asarray(pool, dtype=np.int64)
    if pool.ndim != 1 or pool.size == 0:
        raise ValueError(f"pool must be a non-empty 1-d index array, got "
                         f"shape {pool.shape}")
    rng = make_rng(seed)
    lengths = rng.integers(min_digits, max_digits + 1, B)
    sources = np.full((B, max_digits), -1, dtype=np.int64)
    images = np.zeros((B, SIDE, SIDE * max_digits))
    tokens = np.full((B, max_digits + 1), END, dtype=np.int64)
    for b, L in enumerate(lengths):
        sources[b, :L] = rng.choice(pool, L)
        for k in range(L):
            images[b, :, SIDE * k:SIDE * (k + 1)] = \
                digits.images[sources[b, k]]
        tokens[b, :L] = digits.labels[sources[b, :L]]
    return Captioned(images, tokens, lengths.astype(np.int64), sources)


def random_conv_features(images, F: int, seed) -> np.ndarray:
    """v = ReLU(K * image) at stride 8: (B, F L_max) from (B, 8, 8 L_max).

    K holds F fixed filters of 8 x 8 weights drawn N(0, 1/64) from
    ``seed``; slot k of the canvas gives features k F .. (k + 1) F - 1.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1] != SIDE or \
            images.shape[2] % SIDE:
        raise ValueError(f"images must be (B, 8, 8 L), got shape "
                         f"{images.shape}")
    K = make_rng(seed).normal(0.0, 1.0 / SIDE, (F, SIDE * SIDE))
    B, slots = images.shape[0], images.shape[2] // SIDE
    patches = images.reshape(B, SIDE, slots, SIDE).transpose(0, 2, 1, 3)
    v = np.maximum(patches.reshape(B, slots, -1) @ K.T, 0.0)
    return v.reshape(B, slots * F)


def words(tokens) -> list[list[str]]:
    """Captions as lists of words: each row of tokens cut at its END."""
    out = []
    for row in np.asarray(tokens):
        caption = []
        for t in row:
            if t == END:
                break
            caption.append(VOCAB[int(t)])
        out.append(caption)
    return out
