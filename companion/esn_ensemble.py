"""Many echo state networks at once: E reservoirs stacked (ch. 7).

The sweeps of chapter 7 (input scaling, leak rate, reservoir seeds, noise
in teacher forcing) fit E reservoirs of the same size N on the same
series. Stacked along a leading axis, the E updates of one step are one
batched product instead of E small ones, for reservoir e = 1..E:

    x_e(n) = (1 - alpha_e) x_e(n-1)
             + alpha_e tanh(W_in,e u_e(n) + W_e x_e(n-1) + b_in,e)
    y_e(n) = W_out,e [1; x_e(n)]

and the E ridge readouts are one batched solve,

    (S_e^T S_e + beta I) W_out,e^T = S_e^T Y_e.

Each reservoir e computes what ``esn.run`` / ``esn.fit`` /
``esn.predict`` / ``esn.generate`` compute for it alone (to rounding),
with the readout r(n) = [1; x(n)] (``readout="bias"``) and one sequence
per reservoir (B = 1).

Shapes: E reservoirs, T steps, D inputs, N units, K outputs, F = 1 + N.
W_in (E, N, D), W (E, N, N), b_in (E, N); inputs u (T, E, D), or
(T, 1, D) for the same input to every reservoir; states x (E, N), all
states (T, E, N); targets y (T, E, K) or (T, 1, K); W_out (E, K, F).
Dense W only (a stack of sparse matrices has no batched product).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array, check_finite, check_floating
from .backend import device, namespace, to_numpy
from .esn import is_sparse


def stack(reservoirs) -> dict:
    """E reservoirs of ``esn.init_reservoir`` as one stacked dict.

    Args:
        reservoirs: a non-empty list of dicts W_in (N, D), W (N, N),
            b_in (N,), all of the same N and D, dense.

    Returns:
        {"W_in": (E, N, D), "W": (E, N, N), "b_in": (E, N)}.
    """
    if not isinstance(reservoirs, (list, tuple)) or not reservoirs:
        raise ValueError("reservoirs must be a non-empty list of "
                         "esn.init_reservoir dicts")
    for e, p in enumerate(reservoirs):
        if is_sparse(p["W"]):
            raise ValueError(f"reservoir {e} has a sparse W: stack dense "
                             "reservoirs (esn.init_reservoir(..., "
                             "sparse=False))")
        if tuple(p["W_in"].shape) != tuple(reservoirs[0]["W_in"].shape):
            raise ValueError(f"reservoir {e} has W_in of shape "
                             f"{tuple(p['W_in'].shape)}, reservoir 0 "
                             f"{tuple(reservoirs[0]['W_in'].shape)}")
    xp = namespace(reservoirs[0]["W"])
    return {k: xp.stack([p[k] for p in reservoirs], axis=0)
            for k in ("W_in", "W", "b_in")}


def _alphas(alpha, E: int, xp, like):
    """The leak rates as an (E, 1) array: one float, or E of them."""
    a = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (E,)) \
        if np.ndim(alpha) <= 1 and np.size(alpha) in (1, E) else None
    if a is None:
        raise ValueError(f"alpha must be a float or {E} floats, got shape "
                         f"{np.shape(alpha)}")
    if not np.all((a > 0.0) & (a <= 1.0)):
        raise ValueError(f"the leak rates alpha must lie in (0, 1], got "
                         f"{np.asarray(alpha)!r}")
    return xp.asarray(np.reshape(a, (E, 1)).copy(), dtype=like.dtype,
                      device=device(like))


def _check(params, u, x0, name_u="u"):
    """Validate the stack, u (T >= 1, E or 1, D) and x0 (E, N)."""
    if not isinstance(params, dict) or not {"W_in", "W", "b_in"} <= set(
            params):
        raise TypeError("params must be a dict with W_in, W and b_in "
                        "(esn_ensemble.stack), got "
                        f"{type(params).__name__}")
    check_array(params["W_in"], "W_in", ndim=3)
    E, N, D = params["W_in"].shape
    check_array(params["W"], "W", shape=(E, N, N))
    check_array(params["b_in"], "b_in", shape=(E, N))
    check_array(u, name_u, ndim=3)
    check_floating(u, name_u)
    if u.shape[0] < 1 or u.shape[1] not in (1, E) or u.shape[2] != D:
        raise ValueError(f"{name_u} must have shape (T >= 1, E = {E} or 1, "
                         f"D = {D}), got {tuple(u.shape)}")
    check_finite(u, name_u)
    if x0 is not None:
        check_array(x0, "x0", shape=(E, N))
        check_floating(x0, "x0")
        check_finite(x0, "x0")
    return E, N, D


def zero_state(params):
    """x(0) = 0 for every reservoir of the stack, (E, N)."""
    W = params["W"]
    return namespace(W).zeros(tuple(W.shape[:2]), dtype=W.dtype,
                              device=device(W))


def run(params, u, x0=None, alpha=1.0):
    """The states x_e(1..T) of the E reservoirs, each driven by u_e.

    Args:
        params: a stack (``stack``); u: (T, E, D) or (T, 1, D);
            x0: x(0), (E, N), zeros if None; alpha: a float or E floats.

    Returns:
        (xs (T, E, N), x(T) (E, N)).
    """
    E, N, D = _check(params, u, x0)
    xp = namespace(u, params["W"])
    x = zero_state(params) if x0 is None else x0
    a = _alphas(alpha, E, xp, x)
    # W_in,e u_e(n) for every n and e in one batched product: (E, T, N)
    u_in = xp.permute_dims(u, (1, 0, 2)) @ xp.permute_dims(
        params["W_in"], (0, 2, 1))
    u_in = xp.permute_dims(u_in, (1, 0, 2)) + params["b_in"]
    W_T = xp.permute_dims(params["W"], (0, 2, 1))
    xs = xp.empty((u.shape[0], E, N), dtype=x.dtype, device=device(x))
    for n in range(u.shape[0]):
        # x_e(n-1)^T W_e^T for every e: (E, 1, N) @ (E, N, N)
        recurrent = (x[:, None, :] @ W_T)[:, 0, :]
        x = (1.0 - a) * x + a * xp.tanh(u_in[n, ...] + recurrent)
        xs[n, ...] = x
    return xs, x


def features(xs):
    """[1; x(n)] for states (..., N): (..., 1 + N)."""
    xp = namespace(xs)
    ones = xp.ones(tuple(xs.shape[:-1]) + (1,), dtype=xs.dtype,
                   device=device(xs))
    return xp.concat([ones, xs], axis=-1)


def ridge(S, Y, beta: float):
    """W_out,e = Y_e^T S_e (S_e^T S_e + beta I)^{-1} for each e.

    Args:
        S: readout vectors as rows, (E, M, F); Y: targets, (E, M, K),
            or (1, M, K) for the same targets for every reservoir.

    Returns:
        W_out (E, K, F).
    """
    check_array(S, "S", ndim=3)
    check_array(Y, "Y", shape=(None, S.shape[1], None))
    if Y.shape[0] not in (1, S.shape[0]):
        raise ValueError(f"Y must have shape (E = {S.shape[0]} or 1, "
                         f"M, K), got {tuple(Y.shape)}")
    if not 0.0 <= beta < float("inf"):
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    xp = namespace(S, Y)
    S_T = xp.permute_dims(S, (0, 2, 1))
    A = S_T @ S + beta * xp.eye(S.shape[2], dtype=S.dtype,
                                device=device(S))
    return xp.permute_dims(xp.linalg.solve(A, S_T @ Y), (0, 2, 1))


def fit(params, u, y, x0=None, alpha=1.0, beta: float = 1e-8,
        washout: int = 0):
    """Drive the E reservoirs with u, drop ``washout`` steps, fit each
    readout on r(n) = [1; x_e(n)] against y_e(n).

    Args:
        u: (T, E, D) or (T, 1, D); y: (T, E, K) or (T, 1, K).

    Returns:
        (W_out (E, K, 1 + N), x(T) (E, N)).
    """
    E, N, _ = _check(params, u, x0)
    check_array(y, "y", ndim=3)
    check_floating(y, "y")
    check_finite(y, "y")
    if y.shape[0] != u.shape[0] or y.shape[1] not in (1, E):
        raise ValueError(f"y must have shape (T = {u.shape[0]}, E = {E} "
                         f"or 1, K), got {tuple(y.shape)}")
    if (isinstance(washout, bool) or not isinstance(washout, (int,
                                                              np.integer))
            or not 0 <= washout < u.shape[0]):
        raise ValueError(f"washout must be an int in [0, T = "
                         f"{u.shape[0]}), got {washout!r}")
    xp = namespace(u, y)
    xs, x = run(params, u, x0, alpha)
    S = xp.permute_dims(features(xs[washout:, ...]), (1, 0, 2))
    Y = xp.permute_dims(y[washout:, ...], (1, 0, 2))
    return ridge(S, Y, beta), x


def _check_W_out(W_out, E: int, N: int):
    check_array(W_out, "W_out", shape=(E, None, 1 + N))
    check_finite(W_out, "W_out")


def predict(params, W_out, u, x0=None, alpha=1.0):
    """y_e(n) = W_out,e [1; x_e(n)], teacher-forced: (T, E, K), x(T)."""
    E, N, _ = _check(params, u, x0)
    _check_W_out(W_out, E, N)
    xp = namespace(u, W_out)
    xs, x = run(params, u, x0, alpha)
    r = xp.permute_dims(features(xs), (1, 0, 2))        # (E, T, F)
    y = r @ xp.permute_dims(W_out, (0, 2, 1))             # (E, T, K)
    return xp.permute_dims(y, (1, 0, 2)), x


def generate(params, W_out, u_first, x0, n: int, alpha=1.0):
    """Closed loop, u_e(m + 1) = y_e(m) from u_e(1) = u_first[e] (K = D).

    Args:
        u_first: (E, D); x0: (E, N); n: number of steps.

    Returns:
        (y (n, E, K), x(n) (E, N)).
    """
    E, N, D = _check(params, u_first[None, ...], x0, "u_first")
    _check_W_out(W_out, E, N)
    if W_out.shape[1] != D:
        raise ValueError(f"closed loop needs K = D = {D}: W_out has shape "
                         f"{tuple(W_out.shape)}")
    if u_first.shape[0] != E:
        raise ValueError(f"u_first must have shape ({E}, {D}), got "
                         f"{tuple(u_first.shape)}")
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer))
            or n < 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    xp = namespace(u_first, x0)
    a = _alphas(alpha, E, xp, x0)
    W_in_T = xp.permute_dims(params["W_in"], (0, 2, 1))
    W_T = xp.permute_dims(params["W"], (0, 2, 1))
    W_out_T = xp.permute_dims(W_out, (0, 2, 1))
    u_t, x = u_first, x0
    ys = xp.empty((n, E, D), dtype=x0.dtype, device=device(x0))
    for m in range(n):
        pre = (u_t[:, None, :] @ W_in_T + x[:, None, :] @ W_T)[:, 0, :]
        x = (1.0 - a) * x + a * xp.tanh(pre + params["b_in"])
        u_t = (features(x)[:, None, :] @ W_out_T)[:, 0, :]  # y_e(m)
        ys[m, ...] = u_t
    return ys, x


def nrmse(y, target) -> np.ndarray:
    """``esn.nrmse`` of each reservoir e, over its steps and outputs.

    Args:
        y: (T, E, K); target: (T, E, K) or (T, 1, K).

    Returns:
        a host NumPy array (E,).
    """
    check_array(y, "y", ndim=3)
    check_array(target, "target", shape=(y.shape[0], None, y.shape[2]))
    if target.shape[1] not in (1, y.shape[1]):
        raise ValueError(f"target must have shape (T, E = {y.shape[1]} "
                         f"or 1, K), got {tuple(target.shape)}")
    xp = namespace(y, target)
    rmse = xp.sqrt(xp.mean((y - target) ** 2, axis=(0, 2)))
    std = xp.std(target, axis=(0, 2))
    return to_numpy(rmse / std)
