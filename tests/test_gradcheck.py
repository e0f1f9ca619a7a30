"""companion.gradcheck: the checker itself must catch wrong gradients."""

import numpy as np
import pytest

from companion import backend as B
from companion import gradcheck as G


def quad_params(seed=0):
    rng = np.random.default_rng(seed)
    return {"A": B.asarray(rng.normal(size=(3, 2))),
            "b": B.asarray(rng.normal(size=(3,)))}


def quad_loss(p):
    """E = Σ (tanh(A) 1 + b)²  with known gradient."""
    xp = B.namespace(p["A"])
    r = xp.sum(xp.tanh(p["A"]), axis=1) + p["b"]
    return xp.sum(r * r)


def quad_grads(p):
    xp = B.namespace(p["A"])
    r = xp.sum(xp.tanh(p["A"]), axis=1) + p["b"]
    t = xp.tanh(p["A"])
    return {"A": 2.0 * r[:, None] * (1.0 - t * t), "b": 2.0 * r}


def test_numerical_gradient_of_known_function(backend):
    x = B.asarray(np.array([[0.3, -1.2], [2.0, 0.1]]))
    xp = backend.xp
    num = G.numerical_gradient(lambda v: xp.sum(v ** 3), x)
    assert tuple(num.shape) == (2, 2) and num.dtype == x.dtype
    np.testing.assert_allclose(B.to_numpy(num), 3 * B.to_numpy(x) ** 2,
                               rtol=1e-8)
    # x is not modified
    np.testing.assert_array_equal(B.to_numpy(x), [[0.3, -1.2], [2.0, 0.1]])


def test_numerical_gradient_of_a_scalar_parameter(backend):
    x = B.asarray(np.array(1.5))
    num = G.numerical_gradient(lambda v: v * v, x)
    assert abs(float(num) - 3.0) < 1e-8


def test_check_gradients_passes_right_and_fails_wrong(backend):
    p = quad_params()
    before = {k: B.to_numpy(v).copy() for k, v in p.items()}
    results = G.check_gradients(quad_loss, p, quad_grads(p))
    assert list(results) == ["A", "b"]
    assert all(r.rel_error < 1e-8 for r in results.values())
    G.assert_gradients_close(results, 1e-7)
    for k in p:  # params untouched
        np.testing.assert_array_equal(B.to_numpy(p[k]), before[k])

    wrong = quad_grads(p)
    wrong["A"] = wrong["A"] * 1.01  # a 1 % error must be caught
    bad = G.check_gradients(quad_loss, p, wrong)
    assert bad["A"].rel_error > 1e-3 and bad["b"].rel_error < 1e-8
    with pytest.raises(AssertionError, match="A: rel_error="):
        G.assert_gradients_close(bad, 1e-7)


def test_worst_index_points_at_the_wrong_entry(backend):
    p = quad_params(1)
    g = quad_grads(p)
    host = B.to_numpy(g["A"]).copy()
    host[2, 1] += 0.5
    g["A"] = B.asarray(host)
    r = G.check_gradients(quad_loss, p, g)["A"]
    assert r.worst_index == (2, 1)
    assert abs(r.max_abs_error - 0.5) < 1e-6


def test_relative_error_properties(backend):
    a = B.asarray([1.0, -2.0, 3.0])
    assert G.relative_error(a, a) == 0.0
    assert abs(G.relative_error(a, -a) - 1.0) < 1e-15
    assert abs(G.relative_error(a, B.zeros((3,))) - 1.0) < 1e-15
    with pytest.raises(ValueError, match=r"shapes differ: \(3,\) vs \(2,\)"):
        G.relative_error(a, B.zeros((2,)))


def test_key_and_shape_mismatch_named(backend):
    p = quad_params()
    g = quad_grads(p)
    with pytest.raises(ValueError, match=r"only in params: \['b'\]"):
        G.check_gradients(quad_loss, p, {"A": g["A"]})
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(2,\)"):
        G.check_gradients(quad_loss, p, {"A": g["A"], "b": B.zeros((2,))})
    with pytest.raises(ValueError, match="eps must be finite and > 0"):
        G.numerical_gradient(quad_loss, p["b"], eps=0.0)
