"""companion.optim: each rule against steps computed by hand."""

import math

import numpy as np
import pytest

from companion import backend as B
from companion import optim as O


def params_grads():
    p = {"W": B.asarray([[1.0, -2.0]]), "b": B.asarray([0.5])}
    g = {"W": B.asarray([[0.5, -1.0]]), "b": B.asarray([2.0])}
    return p, g


def host(d):
    return {k: B.to_numpy(v) for k, v in d.items()}


def test_sgd_hand_computed(backend):
    p, g = params_grads()
    opt = O.SGD(lr=0.1)
    new, state = opt.step(p, g, opt.init(p))
    np.testing.assert_allclose(host(new)["W"], [[0.95, -1.9]], rtol=1e-15)
    np.testing.assert_allclose(host(new)["b"], [0.3], rtol=1e-15)
    assert state.t == 1
    # inputs untouched
    np.testing.assert_array_equal(host(p)["W"], [[1.0, -2.0]])


def test_momentum_hand_computed(backend):
    p, g = params_grads()
    opt = O.Momentum(lr=0.1, mu=0.9)
    p1, s1 = opt.step(p, g, opt.init(p))
    p2, s2 = opt.step(p1, g, s1)
    # v1 = -0.1 g, v2 = 0.9 v1 - 0.1 g = -0.19 g
    np.testing.assert_allclose(host(s2.slots["velocity"])["b"], [-0.38])
    np.testing.assert_allclose(host(p2)["b"], [0.5 - 0.2 - 0.38])


def test_adagrad_hand_computed(backend):
    p, g = params_grads()
    opt = O.Adagrad(lr=0.1, eps=0.0 + 1e-8)
    p1, s1 = opt.step(p, g, opt.init(p))
    p2, _ = opt.step(p1, g, s1)
    # G1 = 4, step 0.1·2/2 = 0.1; G2 = 8, step 0.1·2/sqrt(8)
    expected = 0.5 - 0.1 * 2 / (2 + 1e-8) - 0.1 * 2 / (math.sqrt(8) + 1e-8)
    assert math.isclose(float(host(p2)["b"][0]), expected, rel_tol=1e-14)


def test_adam_hand_computed(backend):
    p, g = params_grads()
    opt = O.Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    p1, s1 = opt.step(p, g, opt.init(p))
    # first step: m̂ = g, v̂ = g², so θ moves by lr·g/(|g|+eps)
    expected = 0.5 - 0.01 * 2.0 / (2.0 + 1e-8)
    assert math.isclose(float(host(p1)["b"][0]), expected, rel_tol=1e-14)
    p2, s2 = opt.step(p1, g, s1)
    m = 0.9 * 0.1 * 2 + 0.1 * 2
    v = 0.999 * 0.001 * 4 + 0.001 * 4
    m_hat, v_hat = m / (1 - 0.9 ** 2), v / (1 - 0.999 ** 2)
    expected2 = expected - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert math.isclose(float(host(p2)["b"][0]), expected2, rel_tol=1e-12)
    assert s2.t == 2


def test_pure_rules_match_optimizers(backend):
    p, g = params_grads()
    np.testing.assert_array_equal(
        B.to_numpy(O.sgd_update(p["b"], g["b"], 0.1)),
        host(O.SGD(0.1).step(p, g, O.SGD(0.1).init(p))[0])["b"])


def test_optimizers_reduce_a_quadratic(backend):
    """Every optimizer drives E = ½‖θ - 3‖² towards its minimum."""
    for opt in (O.SGD(0.1), O.Momentum(0.05, 0.9), O.Adagrad(0.5),
                O.Adam(0.1)):
        p = {"x": B.zeros((4,))}
        state = opt.init(p)
        for _ in range(300):
            p, state = opt.step(p, {"x": p["x"] - 3.0}, state)
        assert np.abs(B.to_numpy(p["x"]) - 3.0).max() < 1e-2, opt


def test_bad_arguments_named(backend):
    p, g = params_grads()
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        O.SGD(lr=-1.0)
    with pytest.raises(ValueError, match="mu must be in"):
        O.Momentum(mu=1.0)
    with pytest.raises(ValueError, match="beta2 must be in"):
        O.Adam(beta2=1.5)
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        O.SGD().step(p, {"W": g["W"]}, O.SGD().init(p))
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(2,\)"):
        O.SGD().step(p, {"W": g["W"], "b": B.zeros((2,))},
                     O.SGD().init(p))
    with pytest.raises(ValueError, match="t must be >= 1"):
        O.adam_update(p["b"], g["b"], g["b"], g["b"], 0, 0.1, 0.9, 0.9,
                      1e-8)
