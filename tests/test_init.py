"""companion.init: shapes, bounds, orthogonality, spectral radius."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import backend as B
from companion import init as I

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[
                        HealthCheck.function_scoped_fixture])


def test_uniform_and_xavier_bounds(backend):
    W = I.xavier_uniform((30, 20), 0)
    assert tuple(W.shape) == (30, 20) and W.dtype == backend.float_dtype
    a = math.sqrt(6.0 / 50.0)
    w = B.to_numpy(W)
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.9 * a
    u = B.to_numpy(I.uniform((1000,), 1, -0.2, 0.3))
    assert u.min() >= -0.2 and u.max() < 0.3
    assert abs(u.mean() - 0.05) < 0.01


def test_same_seed_same_matrix_on_every_backend(backend):
    expected = np.random.default_rng(5).uniform(-0.1, 0.1, size=(3, 4))
    np.testing.assert_array_equal(B.to_numpy(I.uniform((3, 4), 5)), expected)


@PROPERTY
@given(rows=st.integers(1, 12), cols=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
def test_orthogonal_is_orthogonal(backend, rows, cols, seed):
    Q = B.to_numpy(I.orthogonal((rows, cols), seed))
    assert Q.shape == (rows, cols)
    small = min(rows, cols)
    gram = Q.T @ Q if rows >= cols else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_gain_and_norm_preservation(backend):
    Q = I.orthogonal((6, 6), 3, gain=2.0)
    x = np.random.default_rng(0).normal(size=6)
    y = B.to_numpy(Q) @ x
    assert math.isclose(np.linalg.norm(y), 2 * np.linalg.norm(x),
                        rel_tol=1e-12)


def test_identity(backend):
    np.testing.assert_array_equal(B.to_numpy(I.identity(3, 0.5)),
                                  0.5 * np.eye(3))


@PROPERTY
@given(n=st.integers(2, 40), rho=st.floats(0.05, 3.0),
       seed=st.integers(0, 2**32 - 1))
def test_scaled_matrix_has_requested_spectral_radius(backend, n, rho, seed):
    W = I.uniform((n, n), seed, -1.0, 1.0)
    S = I.scale_to_spectral_radius(W, rho)
    assert tuple(S.shape) == (n, n) and S.dtype == W.dtype
    eig = np.linalg.eigvals(B.to_numpy(S))
    assert math.isclose(np.abs(eig).max(), rho, rel_tol=1e-9)
    assert math.isclose(I.spectral_radius(S), rho, rel_tol=1e-9)


def test_bad_shapes_and_values_named(backend):
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        I.xavier_uniform((3,), 0)
    with pytest.raises(ValueError, match=r"got \(3, 0\)"):
        I.orthogonal((3, 0), 0)
    with pytest.raises(ValueError,
                       match=r"must be square, got shape \(2, 3\)"):
        I.spectral_radius(I.uniform((2, 3), 0))
    with pytest.raises(ValueError, match="rho must be finite and > 0"):
        I.scale_to_spectral_radius(I.uniform((2, 2), 0), -1.0)
    with pytest.raises(ValueError, match="spectral radius 0"):
        I.scale_to_spectral_radius(B.zeros((2, 2)), 0.9)
    with pytest.raises(ValueError, match="low < high"):
        I.uniform((2,), 0, 1.0, -1.0)
