"""The echo state network's fast path on the CPU (ch. 7), for ``esn``.

Nothing here changes the mathematics of ``esn``; these are the same
operations, in the same order, arranged so that a reservoir of thousands
of units costs little more than its sparse products W x(n-1):

- ``draw_sparse``: the entries of W (N, N) drawn block by block into a
  SciPy CSR matrix, the same numbers as one dense draw, without two dense
  (N, N) arrays;
- ``arpack_radius``: max_i |λ_i(W)| of a sparse W by ARPACK, its products
  calling SciPy's CSR kernel directly;
- ``drive_one``: the reservoir update for one sequence, one call of SciPy's
  CSR kernel per step into buffers allocated once;
- ``ridge_cholesky``: the primal ridge S^T S + beta I by BLAS syrk, solved
  by Cholesky.

Every function takes and returns NumPy arrays or SciPy matrices; the
module imports nothing from ``esn`` (``esn`` imports it).
"""

from __future__ import annotations

import copy

import numpy as np

# W is drawn in blocks of rows of about this many entries
BLOCK = 1 << 18
# ARPACK: Lanczos (Arnoldi) vectors and the relative accuracy of |λ|. The
# largest |λ| of a random W has close rivals (its eigenvalues fill a
# disc): with few vectors ARPACK restarts for long, and from about 40
# down it can settle on a rival (off by 1e-3 and more); 100 vectors and
# 1e-10 cost about 60 % of the matrix products of 1e-14 and agree with
# all N eigenvalues to about 1e-11 (tests/test_esn.py)
ARPACK_NCV, ARPACK_TOL = 100, 1e-10


def draw_sparse(rng, N: int, density: float, block: int = BLOCK):
    """W (N, N) as a SciPy CSR matrix: the N² values U[-1, 1) drawn first,
    then the N² keep/drop draws (kept with probability ``density``), as
    one dense draw would, leaving ``rng`` where that draw leaves it; a
    second generator is advanced past the values to the keep/drop draws.
    None where the generator cannot be advanced (the caller then draws
    densely)."""
    import scipy.sparse

    bitgen = rng.bit_generator
    if not hasattr(bitgen, "advance"):
        return None
    values = np.random.Generator(copy.deepcopy(bitgen))
    keeps = np.random.Generator(copy.deepcopy(bitgen).advance(N * N))
    bitgen.advance(2 * N * N)               # rng as after the two draws
    rows = max(1, block // N)
    data, indices, counts = [], [], [np.zeros(1, dtype=np.int64)]
    for start in range(0, N, rows):
        n = min(rows, N - start)
        v = values.uniform(-1.0, 1.0, (n, N))
        keep = (keeps.random((n, N)) < density) & (v != 0.0)
        data.append(v[keep])
        indices.append(np.nonzero(keep)[1])
        counts.append(np.count_nonzero(keep, axis=1))
    indptr = np.cumsum(np.concatenate(counts))
    # 32-bit indices where they fit (a quarter less to read per product)
    index = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
    return scipy.sparse.csr_array(
        (np.concatenate(data), np.concatenate(indices).astype(index),
         indptr.astype(index)), shape=(N, N))


def arpack_radius(W) -> float | None:
    """max_i |λ_i(W)| of a square SciPy sparse W (N > 2, nonzero) by
    ARPACK from a fixed start vector (the same matrix, the same radius);
    None if ARPACK does not converge."""
    from scipy.sparse.linalg import (ArpackNoConvergence, LinearOperator,
                                     eigs)

    W = W.tocsr().astype(np.float64, copy=False)
    N = W.shape[0]
    kernel = csr_kernel(W)
    indptr, indices, data = W.indptr, W.indices, W.data

    def times_W(v):
        # W v by SciPy's kernel: the checks of ``W @ v`` cost as much
        # as the product itself at a few hundred units
        v = np.ascontiguousarray(v, dtype=np.float64).reshape(N)
        y = np.zeros(N)
        kernel(N, N, indptr, indices, data, v, y)
        return y

    op = (W if kernel is None else
          LinearOperator((N, N), matvec=times_W, dtype=np.float64))
    v0 = np.random.default_rng(0).uniform(0.5, 1.5, N)
    try:
        lam = eigs(op, k=1, which="LM", v0=v0, ncv=min(N - 1, ARPACK_NCV),
                   tol=ARPACK_TOL, return_eigenvectors=False)
    except ArpackNoConvergence:
        return None
    return float(np.max(np.abs(lam)))


def csr_kernel(W, *arrays):
    """SciPy's own CSR kernel y += W x (the one that ``W @ x`` ends in)
    where W is a SciPy CSR matrix and the arrays are NumPy arrays of its
    dtype; None otherwise (CuPy, mixed dtypes, another SciPy)."""
    if not (type(W).__module__.startswith("scipy.sparse")
            and W.format == "csr"
            and all(isinstance(a, np.ndarray) and a.dtype == W.dtype
                    for a in arrays)):
        return None
    from scipy.sparse import _sparsetools

    return getattr(_sparsetools, "csr_matvec", None)


def drive_one(kernel, W, u_in, b_in, x0, alpha: float, out, first: int):
    """The reservoir over one sequence (B = 1) on a SciPy CSR W:

        x(n) = (1 - alpha) x(n-1) + alpha tanh(W_in u(n) + W x(n-1) + b_in)

    with u_in[n] = W_in u(n) given (T, 1, N), x(n) written into
    out[n - first] for n >= first, in the order of ``esn.step``'s
    operations (the same bits), into buffers allocated once and with
    SciPy's kernel called directly. A zero b_in is not added (x + 0 = x).
    Returns x(T), (1, N)."""
    N = W.shape[0]
    indptr, indices, data = W.indptr, W.indices, W.data
    y, keep = np.empty(N, dtype=W.dtype), np.empty(N, dtype=W.dtype)
    spare = [np.empty(N, dtype=W.dtype) for _ in range(2)]
    x = np.ascontiguousarray(x0[0, ...])
    bias = bool(np.any(b_in))
    u_rows = u_in[:, 0, :]
    add, tanh, multiply = np.add, np.tanh, np.multiply
    for n in range(u_in.shape[0]):
        y.fill(0.0)
        kernel(N, N, indptr, indices, data, x, y)        # W x(n-1)
        add(u_rows[n], y, out=y)
        if bias:
            add(y, b_in, out=y)
        tanh(y, out=y)                                   # x~(n)
        multiply(x, 1.0 - alpha, out=keep)
        multiply(y, alpha, out=y)
        # x(n), straight into its row of out (a contiguous row)
        x = out[n - first, 0, :] if n >= first else spare[n % 2]
        add(keep, y, out=x)
    return np.reshape(x.copy(), (1, N))


def ridge_cholesky(S, Y, beta: float):
    """W_out = Y^T S (S^T S + beta I)^{-1} on the host: S^T S + beta I by
    BLAS syrk (one triangle: half the products of S.T @ S), then Cholesky;
    LU on the full matrix where it is not numerically positive definite.
    S (M, F), Y (M, K); returns W_out (K, F)."""
    import scipy.linalg

    syrk = scipy.linalg.blas.get_blas_funcs("syrk", (S,))
    A = syrk(1.0, S.T, lower=False)          # upper triangle of S^T S
    A[np.diag_indices_from(A)] += beta
    B = S.T @ Y
    try:
        factor = scipy.linalg.cho_factor(A, lower=False, overwrite_a=False,
                                         check_finite=False)
        return scipy.linalg.cho_solve(factor, B, check_finite=False).T
    except (np.linalg.LinAlgError, ValueError):
        A = np.triu(A) + np.triu(A, 1).T
        return np.linalg.solve(A, B).T
