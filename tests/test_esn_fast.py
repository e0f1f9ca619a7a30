"""companion.esn_fast: the ESN's fast path on the CPU, against the plain
NumPy/SciPy operations it stands for (esn's own tests run it through the
public functions)."""

import numpy as np
import pytest
import scipy.sparse

from companion import esn_fast


@pytest.mark.parametrize("block", [500, 90, 1, 1 << 18])
def test_blockwise_draw_is_the_one_draw(block):
    """W drawn by blocks of rows has the entries of one dense draw, and
    the generator ends where the one draw leaves it."""
    rng = np.random.default_rng(5)
    want = rng.uniform(-1.0, 1.0, (90, 90))
    want = want * (rng.random((90, 90)) < 0.3)
    after = rng.random(3)
    rng = np.random.default_rng(5)
    W = esn_fast.draw_sparse(rng, 90, 0.3, block=block)
    np.testing.assert_array_equal(rng.random(3), after)
    np.testing.assert_array_equal(W.toarray(), want)
    assert W.nnz == np.count_nonzero(want)
    assert W.indices.dtype == np.int32


def test_arpack_radius_is_the_largest_modulus():
    W = esn_fast.draw_sparse(np.random.default_rng(7), 400, 0.05)
    want = np.max(np.abs(np.linalg.eigvals(W.toarray())))
    assert esn_fast.arpack_radius(W) == pytest.approx(want, rel=1e-9)
    # the same matrix, the same radius (a fixed start vector)
    assert esn_fast.arpack_radius(W) == esn_fast.arpack_radius(W.copy())


@pytest.mark.parametrize("bias", [0.0, 0.3])
def test_drive_one_is_the_plain_update(bias):
    """x(n) = (1 - alpha) x(n-1) + alpha tanh(u_in(n) + W x(n-1) + b_in),
    written with SciPy's W @ x, bit for bit; states from ``first`` on."""
    r = np.random.default_rng(3)
    N, T, alpha, first = 60, 12, 0.4, 3
    W = scipy.sparse.csr_array(r.uniform(-0.3, 0.3, (N, N))
                               * (r.random((N, N)) < 0.2))
    u_in, b_in = r.normal(size=(T, 1, N)), bias * r.normal(size=N)
    x0 = r.normal(size=(1, N))
    out = np.empty((T - first, 1, N))
    kernel = esn_fast.csr_kernel(W, u_in, b_in, x0, out)
    last = esn_fast.drive_one(kernel, W, u_in, b_in, x0, alpha, out, first)
    x = x0[0, :]
    for n in range(T):
        x = ((1.0 - alpha) * x
             + alpha * np.tanh(u_in[n, 0, :] + W @ x + b_in))
        if n >= first:
            np.testing.assert_array_equal(out[n - first, 0, :], x)
    np.testing.assert_array_equal(last, x[None, :])


def test_csr_kernel_only_for_matching_numpy_arrays():
    W = scipy.sparse.csr_array(np.eye(3))
    assert esn_fast.csr_kernel(W, np.zeros(3)) is not None
    assert esn_fast.csr_kernel(W, np.zeros(3, dtype=np.float32)) is None
    assert esn_fast.csr_kernel(W.tocsc(), np.zeros(3)) is None
    assert esn_fast.csr_kernel(np.eye(3), np.zeros(3)) is None


def test_ridge_cholesky_is_the_normal_equations():
    r = np.random.default_rng(4)
    S, Y = r.normal(size=(80, 30)), r.normal(size=(80, 2))
    want = np.linalg.solve(S.T @ S + 1e-3 * np.eye(30), S.T @ Y).T
    np.testing.assert_allclose(esn_fast.ridge_cholesky(S, Y, 1e-3), want,
                               rtol=1e-10, atol=1e-12)
