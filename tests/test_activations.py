"""companion.activations: values, stability, and gradient checks."""

import numpy as np
import pytest

from companion import activations as A
from companion import backend as B
from companion.gradcheck import numerical_gradient, relative_error

ELEMENTWISE = ["sigmoid", "tanh", "relu", "identity"]
ALL = ELEMENTWISE + ["softmax", "log_softmax"]


def reference(name, z):
    """Plain NumPy formulas, evaluated where they do not overflow."""
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "identity":
        return z
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p if name == "softmax" else np.log(p)


@pytest.mark.parametrize("name", ALL)
def test_values_match_reference(backend, name):
    z = np.random.default_rng(0).normal(scale=3.0, size=(4, 3, 5))
    out = A.get_activation(name).forward(B.asarray(z))
    assert tuple(out.shape) == z.shape and out.dtype == backend.float_dtype
    np.testing.assert_allclose(B.to_numpy(out), reference(name, z),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ALL)
def test_stable_for_large_inputs(backend, name):
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with np.errstate(over="raise", invalid="raise",
                     divide="raise"):
        out = B.to_numpy(A.get_activation(name).forward(B.asarray(z)))
    assert np.all(np.isfinite(out)) or name == "log_softmax"
    if name == "sigmoid":
        np.testing.assert_array_equal(out, [[0.0, 0.0, 0.5, 1.0, 1.0]])
    if name == "softmax":
        np.testing.assert_allclose(out.sum(), 1.0)
        assert out[0, -1] == 1.0
    if name == "log_softmax":
        assert out[0, -1] == 0.0 and np.isfinite(out[0, 1:]).all()


@pytest.mark.parametrize("name", ALL)
def test_backward_gradient_check(backend, name):
    """dE/dz from backward(dy, y) equals the central difference of
    E(z) = <dy, f(z)> for a random upstream gradient dy."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(3, 4))
    if name == "relu":  # keep away from the kink at 0
        z = np.where(np.abs(z) < 0.1, 0.5, z)
    dy = B.asarray(rng.normal(size=(3, 4)))
    act = A.get_activation(name)
    zb = B.asarray(z)
    analytic = act.backward(dy, act.forward(zb))
    xp = backend.xp
    numeric = numerical_gradient(lambda v: xp.sum(dy * act.forward(v)), zb)
    assert tuple(analytic.shape) == (3, 4)
    assert relative_error(analytic, numeric) < 1e-8


def test_relu_backward_is_zero_at_the_kink(backend):
    z = B.asarray([-1.0, 0.0, 2.0])
    dy = B.asarray([1.0, 1.0, 1.0])
    out = B.to_numpy(A.relu_backward(dy, A.relu(z)))
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0])


def test_softmax_axis(backend):
    z = np.random.default_rng(2).normal(size=(3, 4))
    out = B.to_numpy(A.softmax(B.asarray(z), axis=0))
    np.testing.assert_allclose(out.sum(axis=0), np.ones(4))


def test_unknown_activation_named():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        A.get_activation("swish")
