"""companion.data.text: offline texts, vocabulary, language-model batches.
"""

import numpy as np
import pytest

from companion import backend as B
from companion.data import text


def test_texts_ship_with_python():
    zen = text.zen_of_python()
    assert zen.startswith("The Zen of Python, by Tim Peters")
    assert "Beautiful is better than ugly." in zen and len(zen) > 800
    docs = text.python_docs()
    assert len(docs) > 100_000 and "statement" in docs
    assert text.python_docs(1000) == docs[:1000]


def test_python_docs_is_frozen():
    """The shipped copy is Python 3.11.7's pydoc_data text, whichever
    Python runs: the chapters' stored outputs depend on it."""
    import sys

    docs = text.python_docs()
    assert len(docs) == 464_969 and len(set(docs)) == 103
    if sys.version_info[:3] == (3, 11, 7):   # the oracle: pydoc_data
        from pydoc_data.topics import topics
        assert docs == "\n".join(topics[k].strip() for k in sorted(topics))


def test_vocab_roundtrip():
    v = text.CharVocab.from_text("hello world")
    assert v.chars == " dehlorw" and v.V == 8
    idx = v.encode("hello")
    assert idx.dtype == np.int64 and idx.tolist() == [3, 2, 4, 4, 5]
    assert v.decode(idx) == "hello"
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['z'\]"):
        v.encode("z")
    with pytest.raises(ValueError, match="empty text"):
        text.CharVocab.from_text("")


def test_one_hot(backend):
    oh = text.one_hot([[0, 2]], 3)
    assert tuple(oh.shape) == (1, 2, 3) and oh.dtype == backend.float_dtype
    np.testing.assert_array_equal(B.to_numpy(oh),
                                  [[[1, 0, 0], [0, 0, 1]]])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        text.one_hot([3], 3)


def test_lm_batches_are_shifted_streams(backend):
    data = np.arange(23) % 7
    batches = text.lm_batches(data, 7, B=2, T=5)
    assert len(batches) == 2  # 11 steps per stream: 2 chunks of 5
    x0, y0, mask = batches[0]
    assert mask is None
    assert tuple(x0.shape) == (5, 2, 7) and tuple(y0.shape) == (5, 2)
    xs = B.to_numpy(x0).argmax(-1)
    ys = B.to_numpy(y0)
    # the target is the next character of the same stream
    np.testing.assert_array_equal(xs[1:], ys[:-1])
    assert xs[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert xs[:, 1].tolist() == [4, 5, 6, 0, 1]   # stream 2 starts at 11
    # the second chunk continues the first
    x1 = B.to_numpy(batches[1].x).argmax(-1)
    assert x1[0, 0] == ys[-1, 0]
    with pytest.raises(ValueError, match="too short"):
        text.lm_batches(data, 7, B=4, T=10)
