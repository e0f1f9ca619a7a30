"""companion.data.digits: captioned canvases of scikit-learn's digits,
the split by source image, the fixed random convolutional features."""

import sys

import numpy as np
import pytest

from companion.data import digits

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def data():
    return digits.load_digits()


def test_load(data):
    assert data.images.shape == (1797, 8, 8) and data.labels.shape == (1797,)
    assert data.images.min() == 0.0 and data.images.max() == 1.0
    assert sorted(set(data.labels.tolist())) == list(range(10))


def test_split_is_disjoint_and_complete():
    tr, te = digits.split_sources(1797, 1 / 3, 0)
    assert len(te) == 599 and len(tr) == 1198
    assert not set(tr) & set(te) and len(set(tr) | set(te)) == 1797
    with pytest.raises(ValueError, match="test_fraction"):
        digits.split_sources(10, 1.0, 0)


def test_compose_images_and_captions(data):
    tr, te = digits.split_sources(1797, 1 / 3, 0)
    c = digits.compose(data, te, 200, 4, 7)
    assert c.images.shape == (200, 8, 32) and c.tokens.shape == (200, 5)
    assert c.lengths.min() == 1 and c.lengths.max() == 4
    used = c.sources[c.sources >= 0]
    assert set(used.tolist()) <= set(te.tolist())
    for b in range(200):
        L = c.lengths[b]
        # slot k shows source k; the slots after the L-th are blank
        for k in range(L):
            np.testing.assert_array_equal(c.images[b, :, 8 * k:8 * k + 8],
                                          data.images[c.sources[b, k]])
        assert not c.images[b, :, 8 * L:].any()
        assert c.tokens[b, :L].tolist() == \
            data.labels[c.sources[b, :L]].tolist()
        assert (c.tokens[b, L:] == digits.END).all()
    with pytest.raises(ValueError, match="min_digits"):
        digits.compose(data, te, 2, 2, 0, min_digits=3)
    with pytest.raises(ValueError, match="pool"):
        digits.compose(data, [], 2, 2, 0)


def test_words():
    tokens = np.array([[3, 1, 4, 10], [10, 10, 10, 10], [0, 11, 10, 9]])
    assert digits.words(tokens) == [["three", "one", "four"], [],
                                    ["zero", "<start>"]]


def test_features_are_per_slot_relu(data):
    c = digits.compose(data, np.arange(100), 5, 3, 0)
    v = digits.random_conv_features(c.images, 6, 0)
    assert v.shape == (5, 18) and v.min() >= 0.0
    # the same filters on every slot: slot 1 of one canvas, alone in
    # slot 0 of another, gives the same features
    alone = np.zeros((1, 8, 24))
    alone[0, :, :8] = c.images[0, :, 8:16]
    w = digits.random_conv_features(alone, 6, 0)
    np.testing.assert_allclose(w[0, :6], v[0, 6:12], rtol=1e-12)
    assert not w[0, 6:].any()                     # blank slots: 0
    with pytest.raises(ValueError, match="images must be"):
        digits.random_conv_features(np.zeros((2, 8, 10)), 6, 0)


def test_clear_error_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        digits.load_digits()
