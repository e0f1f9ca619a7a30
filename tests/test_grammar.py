"""Symbol-string tasks (companion.data.grammar): the embedded Reber
grammar, the classification data, padding and masks, digit reversal."""

import numpy as np
import pytest

from companion import backend as B
from companion.data import grammar


def test_reber_strings_are_in_the_grammar():
    rng = np.random.default_rng(0)
    for _ in range(200):
        s = grammar.reber_string(rng)
        assert grammar.is_reber(s) and s[0] == "B" and s[-1] == "E"
        e = grammar.embedded_reber(rng)
        assert grammar.is_embedded_reber(e) and e[1] == e[-2]


@pytest.mark.parametrize("bad", ["BTE", "BTSSXXTVVEX", "BPVVX", ""])
def test_non_reber_strings_are_rejected(bad):
    assert not grammar.is_reber(bad)


def test_classification_labels_tell_valid_from_corrupted():
    strings, labels = grammar.reber_classification(100, 3, max_len=20)
    assert labels.shape == (100,) and labels.dtype == np.int64
    assert labels.sum() == 50
    for s, label in zip(strings, labels):
        assert len(s) <= 20
        assert grammar.is_embedded_reber(s) == bool(label)
        assert grammar.is_reber(s[2:-2])     # the inner string is valid
    again, _ = grammar.reber_classification(100, 3, max_len=20)
    assert again == strings


def test_classification_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        grammar.reber_classification(0, 1)
    with pytest.raises(ValueError, match="max_len"):
        grammar.reber_classification(5, 1, max_len=4)


def test_one_hot_padded_and_last_step_mask(backend):
    x, lengths = grammar.one_hot_padded(["BTE", "B"])
    assert tuple(x.shape) == (3, 2, 7) and x.dtype == backend.float_dtype
    h = B.to_numpy(x)
    assert h[:, 0, :].argmax(axis=1).tolist() == [0, 1, 6]
    assert h[0, 1, 0] == 1.0 and h[1:, 1, :].sum() == 0.0
    assert lengths.tolist() == [3, 1]
    m = grammar.last_step_mask(lengths, 3)
    assert tuple(m.shape) == (3, 2) and m.dtype == backend.float_dtype
    np.testing.assert_array_equal(B.to_numpy(m), [[0, 1], [0, 0], [1, 0]])
    with pytest.raises(ValueError, match="symbol"):
        grammar.one_hot_padded(["BAE"])
    with pytest.raises(ValueError, match="lengths"):
        grammar.last_step_mask([4], 3)


def test_digit_reversal():
    x, y = grammar.digit_reversal(5, 4, 0)
    assert x.shape == y.shape == (5, 4) and x.dtype == np.int64
    np.testing.assert_array_equal(y, x[:, ::-1])
    assert x.min() >= 0 and x.max() <= 9
    x1, _ = grammar.digit_reversal(1, 1, 0)
    assert x1.shape == (1, 1)
