"""companion.embedding: the lookup, its backward (gradient-checked and
equal to the one-hot product of the lectures), on every backend, and
clear errors for indices that are not words."""

import numpy as np
import pytest

from companion import backend as B
from companion import embedding
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 relative_error)


def setup(shape=(5, 3), V=7, D=4, seed=0):
    rng = np.random.default_rng(seed)
    E = embedding.init_params(V, D, rng)
    ids = B.asarray(rng.integers(0, V, shape))
    R = B.asarray(rng.normal(size=shape + (D,)))   # E = Σ R ∘ X
    return E, ids, R


def test_forward_is_the_row_of_each_index(backend):
    E, ids, _ = setup()
    x = embedding.forward(E, ids)
    assert tuple(x.shape) == (5, 3, 4) and x.dtype == E.dtype
    E_h, ids_h, x_h = B.to_numpy(E), B.to_numpy(ids), B.to_numpy(x)
    for t in range(5):
        for b in range(3):
            assert np.array_equal(x_h[t, b], E_h[ids_h[t, b]])


@pytest.mark.parametrize("shape", [(5, 3), (1, 1), (4,), (2, 3, 2)])
def test_gradient_check(backend, shape):
    E, ids, R = setup(shape=shape, seed=len(shape))
    xp = B.namespace(E)
    dE = embedding.backward(ids, R, E.shape[0])
    assert tuple(dE.shape) == tuple(E.shape) and dE.dtype == E.dtype

    def loss(p):
        return xp.sum(R * embedding.forward(p["E"], ids))
    assert_gradients_close(check_gradients(loss, {"E": E}, {"E": dE}),
                           1e-7)


def test_backward_equals_the_one_hot_product(backend):
    rng = np.random.default_rng(3)
    V, D = 50, 6
    ids = B.asarray(rng.integers(0, V - 5, (30, 20)))  # 5 words unused
    dx = B.asarray(rng.normal(size=(30, 20, D)))
    xp = B.namespace(dx)
    fast = embedding.backward(ids, dx, V)
    dense = embedding.one_hot(ids, V, dx.dtype).T @ xp.reshape(dx, (-1, D))
    assert relative_error(fast, dense) < 1e-12
    assert np.all(B.to_numpy(fast)[V - 5:] == 0.0)     # unseen words: 0
    oh = B.to_numpy(embedding.one_hot(ids, V, dx.dtype))
    assert oh.shape == (600, V) and np.all(oh.sum(axis=1) == 1.0)


def test_a_repeated_word_collects_every_gradient(backend):
    ids = B.asarray(np.array([[2, 2], [2, 0]]))
    dx = B.asarray(np.array([[[1.0], [2.0]], [[4.0], [8.0]]]))
    dE = B.to_numpy(embedding.backward(ids, dx, 3))
    assert np.array_equal(dE, np.array([[8.0], [0.0], [7.0]]))


def test_bad_indices_are_refused(backend):
    E, _, _ = setup()
    with pytest.raises(ValueError, match=r"\[0, V\) = \[0, 7\).*\[0, 7\]"):
        embedding.forward(E, B.asarray(np.array([[0, 7]])))
    with pytest.raises(ValueError, match=r"\[-1, 3\]"):
        embedding.forward(E, B.asarray(np.array([[-1, 3]])))
    with pytest.raises(TypeError, match="integer word indices.*float"):
        embedding.forward(E, B.asarray(np.array([[0.0, 1.0]])))
    with pytest.raises(TypeError, match="ids must be an array"):
        embedding.forward(E, [[0, 1]])
    with pytest.raises(ValueError, match="dx must have shape"):
        embedding.backward(B.asarray(np.array([[0, 1]])),
                           B.asarray(np.zeros((2, 1, 3))), 7)
    with pytest.raises(ValueError, match="V >= 1 and D >= 1"):
        embedding.init_params(0, 3, np.random.default_rng(0))
