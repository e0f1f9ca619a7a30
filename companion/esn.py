"""Echo state networks: a fixed random reservoir, a trained readout (ch. 7).

The leaky-integrator reservoir of Lukoševičius (2012), with the input
bias kept apart from W_in (it is the column of W_in that multiplies the
constant 1 of [1; u(n)]):

    x~(n) = tanh(W_in u(n) + W x(n-1) + b_in)
    x(n)  = (1 - alpha) x(n-1) + alpha x~(n)
    y(n)  = W_out r(n),     r(n) = [1; x(n)]  (or [1; u(n); x(n)])

W_in, W and b_in are drawn at random and never trained; W is scaled to
spectral radius rho = max_i |λ_i(W)|. Only W_out is fitted, by ridge
regression in closed form on the readout vectors r(n) after a washout,
stacked as the rows of S (M, F), with the targets as the rows of Y (M, K):

    (S^T S + beta I) W_out^T = S^T Y,   i.e.  W_out = Y^T S (S^T S +
    beta I)^{-1};  beta = 0 is ordinary least squares.

NRMSE, as this course defines it (libraries differ):

    NRMSE(y, y*) = sqrt(mean((y - y*)^2)) / std(y*),

the root-mean-square error over all entries divided by the population
standard deviation (ddof = 0) of all entries of the target y*.

Shapes: inputs u (T, B, D), states x (B, N), all states (T, B, N),
outputs (T, B, K); W_in (N, D), W (N, N), b_in (N,), W_out (K, F) with
F = 1 + N ("bias") or 1 + D + N ("bias+input") or N ("state").

At scale (N of a few hundred units and more, density below 1) W is a
sparse matrix: SciPy's CSR on the CPU, CuPy's on the GPU, dense only
where the backend has no sparse type (the GPU proxy). Its radius is then
found by ARPACK (scipy.sparse.linalg.eigs) instead of all N eigenvalues,
and the readout is solved in the smaller of its two equivalent forms:
with far fewer rows than features (2 M <= F, beta > 0) the push-through
identity Y^T S (S^T S + beta I)^{-1} = Y^T (S S^T + beta I)^{-1} S, an
(M, M) system instead of (F, F). The host's fast path for these (the
blocked draw, ARPACK, SciPy's CSR kernel step by step, syrk and Cholesky)
is ``esn_fast``: the same operations, the same results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from . import esn_fast
from ._validate import (check_array, check_finite, check_floating,
                        check_positive)
from .backend import (asarray, device, make_rng, namespace, resolve,
                      to_numpy)
from .init import scale_to_spectral_radius
from .init import spectral_radius as _dense_spectral_radius

READOUTS = ("bias", "bias+input", "state")
# below this many units a dense W is as fast as a sparse one and its N
# eigenvalues cheap: reservoirs this small stay dense (and bit-identical)
SPARSE_MIN_N = 500


class State(NamedTuple):
    """The reservoir state x(n), shape (B, N)."""

    x: Any


def is_sparse(W) -> bool:
    """Whether W is a SciPy or CuPy sparse matrix (not an array)."""
    return type(W).__module__.startswith(("scipy.sparse",
                                          "cupyx.scipy.sparse"))


def spectral_radius(W) -> float:
    """max_i |λ_i(W)| of a dense or sparse square matrix.

    Dense: all eigenvalues on the host (``init.spectral_radius``).
    Sparse: the eigenvalue of largest modulus alone, by ARPACK
    (scipy.sparse.linalg.eigs) from a fixed start vector, so that the same
    matrix gives the same radius; all eigenvalues if ARPACK fails.
    """
    if not is_sparse(W):
        return _dense_spectral_radius(W)
    host = W.get() if type(W).__module__.startswith("cupyx") else W
    N = host.shape[0]
    if host.shape != (N, N):
        raise ValueError(f"W must be square, got shape {tuple(host.shape)}")
    host = host.astype(np.float64, copy=False)
    if N > 2 and host.nnz:
        radius = esn_fast.arpack_radius(host)
        if radius is not None:
            return radius
    return float(np.max(np.abs(np.linalg.eigvals(host.toarray()))))


def _draw_recurrent(rng, N: int, density: float, sparse: bool):
    """W (N, N) on the host, U[-1, 1) entries kept with probability
    ``density``: the N² values are drawn first, then the N² keep/drop
    draws, whatever the form. Dense: an array; sparse: a SciPy CSR matrix
    of the same entries (drawn block by block, ``esn_fast.draw_sparse``).
    """
    if sparse:
        W = esn_fast.draw_sparse(rng, N, density)
        if W is not None:
            return W
    W = rng.uniform(-1.0, 1.0, (N, N))
    W = W * (rng.random((N, N)) < density)
    if sparse:
        import scipy.sparse

        return scipy.sparse.csr_array(W)
    return W


def init_reservoir(D: int, N: int, rng, rho: float = 0.9,
                   density: float = 1.0, input_scaling: float = 1.0,
                   bias_scaling: float = 0.0, xp=None, dtype=None,
                   sparse: bool | None = None):
    """A random reservoir: W_in, W (radius rho exactly) and b_in.

    Drawn on the host, in this order from ``rng``: W (N, N) with entries
    U[-1, 1) kept with probability ``density``, then W_in (N, D) from
    U[-input_scaling, input_scaling), then b_in (N,) from
    U[-bias_scaling, bias_scaling) (zeros when bias_scaling = 0). W is
    then scaled to spectral radius rho.

    ``sparse``: store W as a sparse matrix (SciPy CSR on NumPy, CuPy's on
    CuPy; a backend without sparse matrices, the GPU proxy, gets it
    dense). None: sparse when density < 1 and N >= SPARSE_MIN_N. The
    draws, and so the entries, are the same either way; a sparse W's
    radius comes from ARPACK instead of all N eigenvalues.

    Returns:
        {"W_in": (N, D), "W": (N, N), "b_in": (N,)}.
    """
    for name, value in (("D", D), ("N", N)):
        if (not isinstance(value, (int, np.integer))
                or isinstance(value, bool) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    check_positive(rho, "rho")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must lie in (0, 1], got {density!r}")
    check_positive(input_scaling, "input_scaling", allow_zero=True)
    check_positive(bias_scaling, "bias_scaling", allow_zero=True)
    rng = make_rng(rng)
    if sparse is None:
        sparse = density < 1.0 and N >= SPARSE_MIN_N
    W = _draw_recurrent(rng, N, density, bool(sparse))
    W_in = rng.uniform(-1.0, 1.0, (N, D)) * input_scaling
    b_in = rng.uniform(-1.0, 1.0, N) * bias_scaling
    be = resolve(xp)
    if sparse:
        W = _sparse_to_backend(W, rho, be, dtype)
    else:
        W = scale_to_spectral_radius(asarray(W, xp=be, dtype=dtype), rho)
    return {"W_in": asarray(W_in, xp=be, dtype=dtype), "W": W,
            "b_in": asarray(b_in, xp=be, dtype=dtype)}


def _sparse_to_backend(W, rho: float, be, dtype):
    """The host CSR matrix W scaled to radius rho, on the backend: CSR
    there, or dense where the backend has no sparse type."""
    radius = spectral_radius(W)
    if radius == 0.0:
        raise ValueError("W has spectral radius 0 (nilpotent or zero): "
                         "it cannot be scaled to a positive radius")
    W = W * (rho / radius)
    dtype = be.float_dtype if dtype is None else dtype
    if be.name == "numpy":
        return W.astype(np.dtype(dtype), copy=False)
    if be.name == "cupy":
        import cupyx.scipy.sparse

        return cupyx.scipy.sparse.csr_matrix(W.astype(np.dtype(dtype)))
    return asarray(W.toarray(), xp=be, dtype=dtype)


def _times_W_T(x, W):
    """x @ W.T, (B, N), for a dense or a sparse W."""
    if is_sparse(W):
        return (W @ x.T).T
    return x @ W.T


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"the leak rate alpha must lie in (0, 1], "
                         f"got {alpha!r}")


def step(params, u_t, state: State, alpha: float = 1.0) -> State:
    """One reservoir update, x(n) = (1 - alpha) x(n-1)
    + alpha tanh(W_in u(n) + W x(n-1) + b_in).

    Args:
        params: W_in (N, D), W (N, N), b_in (N,).
        u_t: u(n), (B, D).
        state: State(x(n-1)), x of shape (B, N).

    Returns:
        State(x(n)).
    """
    xp = namespace(u_t, state.x)
    W_in, W, b_in = params["W_in"], params["W"], params["b_in"]
    # x~(n) = tanh(W_in u(n) + W x(n-1) + b_in), batched: the transpose
    x_tilde = xp.tanh(u_t @ W_in.T + _times_W_T(state.x, W) + b_in)
    return State((1.0 - alpha) * state.x + alpha * x_tilde)


def _check_run(params, u, x0, alpha: float):
    """Validate params, u (T >= 1, B, D), x0 (B, N) and alpha; (N, D)."""
    if not isinstance(params, dict) or not {"W_in", "W", "b_in"} <= set(
            params):
        raise TypeError("params must be a dict with W_in, W and b_in "
                        "(esn.init_reservoir), got "
                        f"{type(params).__name__}")
    check_array(params["W_in"], "W_in", ndim=2)
    N, D = params["W_in"].shape
    W = params["W"]
    if is_sparse(W):
        if tuple(W.shape) != (N, N):
            raise ValueError(f"W must have shape ({N}, {N}), got "
                             f"{tuple(W.shape)}")
    else:
        check_array(W, "W", shape=(N, N))
    check_array(params["b_in"], "b_in", shape=(N,))
    check_array(u, "u", ndim=3)
    check_floating(u, "u")
    if u.shape[2] != D or u.shape[0] < 1:
        raise ValueError(f"u must have shape (T >= 1, B, D = {D}), "
                         f"got {tuple(u.shape)}")
    check_array(x0, "x0", shape=(u.shape[1], N))
    check_floating(x0, "x0")
    _check_alpha(alpha)
    check_finite(u, "u")
    check_finite(x0, "x0")
    return N, D


def _drive(params, u, x0, alpha: float, out, first: int = 0):
    """Run the reservoir over u from x0, writing x(n) into out[n - first]
    for the steps n >= first (0-based); returns x(T). ``out`` may be a
    view (the state columns of the readout vectors): no other copy."""
    xp = namespace(u, x0)
    N, D = params["W_in"].shape
    # ``step`` for n = 1..T, with W_in u(n) for every n in one product
    # (equal to the steps' products up to rounding) and the states
    # written into one array
    u_in = xp.reshape(xp.reshape(u, (-1, D)) @ params["W_in"].T,
                      tuple(u.shape[:2]) + (N,))
    W, b_in = params["W"], params["b_in"]
    sparse = is_sparse(W)
    W_T = None if sparse else W.T
    kernel = (esn_fast.csr_kernel(W, u_in, b_in, x0, out) if sparse
              and x0.shape[0] == 1 and out.strides[-1] == out.itemsize
              else None)
    if kernel is not None:
        return esn_fast.drive_one(kernel, W, u_in, b_in, x0, alpha, out,
                                  first)
    x = x0
    for n in range(u.shape[0]):
        if not sparse:
            recurrent = x @ W_T
        elif x.shape[0] == 1:                # one sequence: W x, a vector
            recurrent = xp.reshape(W @ x[0, ...], (1, N))
        else:
            recurrent = (W @ x.T).T
        x_tilde = xp.tanh(u_in[n, ...] + recurrent + b_in)
        x = (1.0 - alpha) * x + alpha * x_tilde
        if n >= first:
            out[n - first, ...] = x
    return x


def run(params, u, x0, alpha: float = 1.0):
    """The states x(1..T) of the reservoir driven by u(1..T).

    Args:
        u: inputs (T, B, D); x0: x(0), (B, N).

    Returns:
        (xs (T, B, N), State(x(T))).
    """
    N, _ = _check_run(params, u, x0, alpha)
    xp = namespace(u, x0)
    xs = xp.empty(tuple(u.shape[:2]) + (N,), dtype=x0.dtype,
                  device=device(x0))
    return xs, State(_drive(params, u, x0, alpha, xs))


def features(xs, u=None, readout: str = "bias"):
    """The readout vectors r(n): [1; x(n)], [1; u(n); x(n)] or x(n).

    Args:
        xs: states (..., N); u: inputs (..., D), needed for "bias+input".

    Returns:
        r (..., F) with F = 1 + N, 1 + D + N or N.
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, "
                         f"got {readout!r}")
    if readout == "state":
        return xs
    xp = namespace(xs)
    ones = xp.ones(tuple(xs.shape[:-1]) + (1,), dtype=xs.dtype,
                   device=device(xs))
    if readout == "bias":
        return xp.concat([ones, xs], axis=-1)
    if u is None or tuple(u.shape[:-1]) != tuple(xs.shape[:-1]):
        raise ValueError("readout 'bias+input' needs u with the leading "
                         f"shape of the states {tuple(xs.shape[:-1])}")
    return xp.concat([ones, u, xs], axis=-1)


def ridge(S, Y, beta: float):
    """W_out = Y^T S (S^T S + beta I)^{-1}, by solving
    (S^T S + beta I) W_out^T = S^T Y.

    With at most half as many rows as columns (2 M <= F) and beta > 0,
    the same W_out from the (M, M) system (S S^T + beta I) Z = Y,
    W_out = Z^T S (the push-through identity): about M F (M + F) + M³
    operations instead of F² (M + F), which pays once M is well below F.

    Args:
        S: readout vectors as rows, (M, F); Y: targets as rows, (M, K).
        beta: ridge parameter >= 0 (0: least squares, S of full rank F).

    Returns:
        W_out (K, F).
    """
    check_array(S, "S", ndim=2)
    check_array(Y, "Y", shape=(S.shape[0], None))
    check_positive(beta, "beta", allow_zero=True)
    xp = namespace(S, Y)
    M, F = S.shape
    if 2 * M <= F and beta > 0:
        G = S @ S.T + beta * xp.eye(M, dtype=S.dtype, device=device(S))
        return _solve_spd(xp, G, Y).T @ S
    if F >= SPARSE_MIN_N and isinstance(S, np.ndarray) and beta > 0:
        return esn_fast.ridge_cholesky(S, Y, beta)
    A = S.T @ S + beta * xp.eye(F, dtype=S.dtype, device=device(S))
    return _solve_spd(xp, A, S.T @ Y).T


def _solve_spd(xp, A, B):
    """A^{-1} B for A = S^T S + beta I (or S S^T + beta I). Large systems
    on NumPy by Cholesky (half the work of LU), LU where A is not
    numerically positive definite; small ones (a course's sizes, below
    SPARSE_MIN_N) by LU, as they always were."""
    if A.shape[0] >= SPARSE_MIN_N and isinstance(A, np.ndarray):
        import scipy.linalg

        try:
            return scipy.linalg.solve(A, B, assume_a="pos",
                                      check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            pass
    return xp.linalg.solve(A, B)


def _check_washout(washout, T: int) -> None:
    if isinstance(washout, bool) or not isinstance(washout,
                                                   (int, np.integer)):
        raise TypeError(f"washout must be an int (a number of steps), "
                        f"got {washout!r}")
    if not 0 <= washout < T:
        raise ValueError(f"washout must lie in [0, T = {T}), "
                         f"got {washout!r}")


def fit(params, u, y, x0, alpha: float = 1.0, beta: float = 1e-8,
        washout: int = 0, readout: str = "bias"):
    """Drive the reservoir with u, drop ``washout`` steps, fit W_out.

    Args:
        u: inputs (T, B, D); y: targets (T, B, K); x0: x(0), (B, N).

    Returns:
        (W_out (K, F), State(x(T))).
    """
    _check_run(params, u, x0, alpha)
    check_array(y, "y", ndim=3)
    if tuple(y.shape[:2]) != tuple(u.shape[:2]):
        raise ValueError(f"y must have shape (T, B, K) with (T, B) = "
                         f"{tuple(u.shape[:2])} of u, got {tuple(y.shape)}")
    check_floating(y, "y")
    check_finite(y, "y")
    _check_washout(washout, u.shape[0])
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, "
                         f"got {readout!r}")
    check_positive(beta, "beta", allow_zero=True)
    xp = namespace(u, y)
    r, x = _readout_vectors(params, u, x0, alpha, readout, washout)
    S = xp.reshape(r, (-1, r.shape[-1]))        # rows r(n), b-major in n
    Y = xp.reshape(y[washout:, ...], (-1, y.shape[-1]))
    return ridge(S, Y, beta), State(x)


def _readout_vectors(params, u, x0, alpha: float, readout: str,
                     first: int = 0):
    """The readout vectors r(n) (T - first, B, F) of the steps n >= first
    and x(T): the states are written straight into their columns (what
    features() would build, without a second copy)."""
    xp = namespace(u, x0)
    N, D = params["W_in"].shape
    T, Bsz = u.shape[0] - first, u.shape[1]
    lead = {"bias": 1, "bias+input": 1 + D, "state": 0}[readout]
    r = xp.empty((T, Bsz, lead + N), dtype=x0.dtype, device=device(x0))
    if lead:
        r[..., 0] = 1.0
    if readout == "bias+input":
        r[..., 1:lead] = u[first:, ...]
    return r, _drive(params, u, x0, alpha, r[..., lead:], first=first)


def predict(params, W_out, u, x0, alpha: float = 1.0,
            readout: str = "bias"):
    """y(n) = W_out r(n) for n = 1..T (teacher-forced: u is given).

    Returns:
        (y (T, B, K), State(x(T))).
    """
    _check_readout(params, W_out, readout)
    _check_run(params, u, x0, alpha)
    r, x = _readout_vectors(params, u, x0, alpha, readout)
    return r @ W_out.T, State(x)


def _check_readout(params, W_out, readout: str) -> None:
    """W_out (K, F) with F the width of ``readout``'s vectors, finite."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, "
                         f"got {readout!r}")
    N, D = params["W_in"].shape
    F = {"bias": 1 + N, "bias+input": 1 + D + N, "state": N}[readout]
    check_array(W_out, "W_out", shape=(None, F))
    check_finite(W_out, "W_out")


def generate(params, W_out, u_first, x0, n: int, alpha: float = 1.0,
             readout: str = "bias"):
    """Closed loop: each output is fed back as the next input,
    u(m + 1) = y(m), starting from u(1) = ``u_first`` (B, D); K = D.

    Returns:
        (y (n, B, K), State(x(n))).
    """
    check_array(W_out, "W_out", ndim=2)
    if W_out.shape[0] != params["W_in"].shape[1]:
        raise ValueError(f"closed loop needs K = D: W_out has shape "
                         f"{tuple(W_out.shape)}, W_in "
                         f"{tuple(params['W_in'].shape)}")
    _check_readout(params, W_out, readout)
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer))
            or n < 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    check_array(u_first, "u_first", shape=(None, params["W_in"].shape[1]))
    check_floating(u_first, "u_first")
    check_finite(u_first, "u_first")
    xp = namespace(u_first, x0)
    check_array(x0, "x0", shape=(u_first.shape[0], params["W"].shape[0]))
    check_finite(x0, "x0")
    _check_alpha(alpha)
    u_t, state, ys = u_first, State(x0), []
    for _ in range(n):
        state = step(params, u_t, state, alpha)
        u_t = features(state.x, u_t, readout) @ W_out.T   # y(m) = u(m+1)
        ys.append(u_t)
    return xp.stack(ys, axis=0), state


def nrmse(y, target) -> float:
    """sqrt(mean((y - target)^2)) / std(target), population std (ddof 0),
    over all entries of arrays of the same shape."""
    check_array(target, "target", shape=tuple(y.shape))
    xp = namespace(y, target)
    rmse = xp.sqrt(xp.mean((y - target) ** 2))
    return float(rmse / xp.std(target))


def memory_capacity(params, u, max_delay: int, alpha: float = 1.0,
                    beta: float = 1e-8, washout: int = 100) -> np.ndarray:
    """MC_k = corr(u(n - k), y_k(n))^2 for k = 1..max_delay (Jaeger 2001).

    Each readout y_k = W_out,k [1; x(n)] is fitted on the first half of the
    steps after the washout to recall u(n - k), and scored on the second
    half. The sum over k is at most N for i.i.d. input.

    Args:
        u: an i.i.d. input sequence (T, 1, 1); washout >= max_delay.

    Returns:
        MC_1..MC_max_delay, a host NumPy array (max_delay,).
    """
    check_array(u, "u", shape=(None, 1, 1))
    _check_washout(washout, u.shape[0])
    if not 1 <= max_delay <= washout < u.shape[0] - 3:
        raise ValueError(f"need 1 <= max_delay ({max_delay}) <= washout "
                         f"({washout}) < T - 3 ({u.shape[0] - 3})")
    xp = namespace(u)
    N = params["W"].shape[0]
    x0 = xp.zeros((1, N), dtype=u.dtype, device=device(u))
    xs, _ = run(params, u, x0, alpha)
    S = features(xs[washout:, 0, :])                     # (M, 1 + N)
    # column k - 1 holds u(n - k) for the kept steps n
    Y = xp.stack([u[washout - k:u.shape[0] - k, 0, 0]
                  for k in range(1, max_delay + 1)], axis=1)
    half = S.shape[0] // 2
    W_out = ridge(S[:half, ...], Y[:half, ...], beta)
    pred, true = S[half:, ...] @ W_out.T, Y[half:, ...]
    pred = pred - xp.mean(pred, axis=0)
    true = true - xp.mean(true, axis=0)
    corr2 = xp.sum(pred * true, axis=0) ** 2 / (
        xp.sum(pred * pred, axis=0) * xp.sum(true * true, axis=0))
    return to_numpy(corr2)


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of an echo state network."""

    N: int = 100
    rho: float = 0.9
    density: float = 1.0
    input_scaling: float = 1.0
    bias_scaling: float = 0.0
    alpha: float = 1.0
    beta: float = 1e-8
    washout: int = 100
    readout: str = "bias"
    seed: int = 0
    sparse: bool | None = None     # None: sparse from SPARSE_MIN_N units


@dataclass(frozen=True)
class ESN:
    """A reservoir (params), its readout W_out (None until fitted) and
    its Config. Holds no state: every method takes x(0) and returns the
    final State."""

    config: Config
    params: dict
    W_out: Any = None

    @classmethod
    def create(cls, D: int, config: Config = Config(), xp=None) -> "ESN":
        """A new reservoir for D inputs, drawn from ``config.seed``."""
        c = config
        if c.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, "
                             f"got {c.readout!r}")
        return cls(c, init_reservoir(D, c.N, c.seed, c.rho, c.density,
                                     c.input_scaling, c.bias_scaling, xp,
                                     sparse=c.sparse))

    def zero_state(self, B: int = 1) -> State:
        """x(0) = 0 for a batch of B sequences."""
        W_in = self.params["W_in"]
        return State(namespace(W_in).zeros((B, W_in.shape[0]),
                                           dtype=W_in.dtype,
                                           device=device(W_in)))

    def fit(self, u, y, state: State):
        """Fit W_out on (u, y) from ``state``: (fitted ESN, final State)."""
        c = self.config
        W_out, final = fit(self.params, u, y, state.x, c.alpha, c.beta,
                           c.washout, c.readout)
        return replace(self, W_out=W_out), final

    def predict(self, u, state: State):
        """Teacher-forced outputs (T, B, K) and the final State."""
        return predict(self.params, self._W_out(), u, state.x,
                       self.config.alpha, self.config.readout)

    def generate(self, u_first, state: State, n: int):
        """n closed-loop outputs (n, B, K) and the final State."""
        return generate(self.params, self._W_out(), u_first, state.x, n,
                        self.config.alpha, self.config.readout)

    def _W_out(self):
        if self.W_out is None:
            raise ValueError("this ESN has no readout yet: call fit first")
        return self.W_out
