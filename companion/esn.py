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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from ._validate import check_array, check_floating, check_positive
from .backend import (asarray, device, make_rng, namespace, resolve,
                      to_numpy)
from .init import scale_to_spectral_radius

READOUTS = ("bias", "bias+input", "state")


class State(NamedTuple):
    """The reservoir state x(n), shape (B, N)."""

    x: Any


def init_reservoir(D: int, N: int, rng, rho: float = 0.9,
                   density: float = 1.0, input_scaling: float = 1.0,
                   bias_scaling: float = 0.0, xp=None, dtype=None):
    """A random reservoir: W_in, W (radius rho exactly) and b_in.

    Drawn on the host, in this order from ``rng``: W (N, N) with entries
    U[-1, 1) kept with probability ``density``, then W_in (N, D) from
    U[-input_scaling, input_scaling), then b_in (N,) from
    U[-bias_scaling, bias_scaling) (zeros when bias_scaling = 0). W is
    then scaled to spectral radius rho.

    Returns:
        {"W_in": (N, D), "W": (N, N), "b_in": (N,)}.
    """
    for name, value in (("D", D), ("N", N)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    check_positive(rho, "rho")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must lie in (0, 1], got {density!r}")
    check_positive(input_scaling, "input_scaling", allow_zero=True)
    check_positive(bias_scaling, "bias_scaling", allow_zero=True)
    rng = make_rng(rng)
    W = rng.uniform(-1.0, 1.0, (N, N))
    W = W * (rng.random((N, N)) < density)
    W_in = rng.uniform(-1.0, 1.0, (N, D)) * input_scaling
    b_in = rng.uniform(-1.0, 1.0, N) * bias_scaling
    be = resolve(xp)
    W = scale_to_spectral_radius(asarray(W, xp=be, dtype=dtype), rho)
    return {"W_in": asarray(W_in, xp=be, dtype=dtype), "W": W,
            "b_in": asarray(b_in, xp=be, dtype=dtype)}


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
    x_tilde = xp.tanh(u_t @ W_in.T + state.x @ W.T + b_in)
    return State((1.0 - alpha) * state.x + alpha * x_tilde)


def run(params, u, x0, alpha: float = 1.0):
    """The states x(1..T) of the reservoir driven by u(1..T).

    Args:
        u: inputs (T, B, D); x0: x(0), (B, N).

    Returns:
        (xs (T, B, N), State(x(T))).
    """
    N, D = params["W_in"].shape
    check_array(params["W"], "W", shape=(N, N))
    check_array(params["b_in"], "b_in", shape=(N,))
    check_array(u, "u", ndim=3)
    check_floating(u, "u")
    if u.shape[2] != D or u.shape[0] < 1:
        raise ValueError(f"u must have shape (T >= 1, B, D = {D}), "
                         f"got {tuple(u.shape)}")
    check_array(x0, "x0", shape=(u.shape[1], N))
    _check_alpha(alpha)
    xp = namespace(u, x0)
    # ``step`` for n = 1..T, with W_in u(n) for every n in one product
    # (equal to the steps' products up to rounding) and the states
    # written into one array
    u_in = xp.reshape(xp.reshape(u, (-1, D)) @ params["W_in"].T,
                      tuple(u.shape[:2]) + (N,))
    W_T, b_in = params["W"].T, params["b_in"]
    xs = xp.empty(tuple(u.shape[:2]) + (N,), dtype=x0.dtype,
                  device=device(x0))
    x = x0
    for n in range(u.shape[0]):
        x_tilde = xp.tanh(u_in[n, ...] + x @ W_T + b_in)
        x = (1.0 - alpha) * x + alpha * x_tilde
        xs[n, ...] = x
    return xs, State(x)


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
    F = S.shape[1]
    A = S.T @ S + beta * xp.eye(F, dtype=S.dtype, device=device(S))
    return xp.linalg.solve(A, S.T @ Y).T


def fit(params, u, y, x0, alpha: float = 1.0, beta: float = 1e-8,
        washout: int = 0, readout: str = "bias"):
    """Drive the reservoir with u, drop ``washout`` steps, fit W_out.

    Args:
        u: inputs (T, B, D); y: targets (T, B, K); x0: x(0), (B, N).

    Returns:
        (W_out (K, F), State(x(T))).
    """
    check_array(y, "y", ndim=3)
    if tuple(y.shape[:2]) != tuple(u.shape[:2]):
        raise ValueError(f"y must have shape (T, B, K) with (T, B) = "
                         f"{tuple(u.shape[:2])}, got {tuple(y.shape)}")
    if not 0 <= washout < u.shape[0]:
        raise ValueError(f"washout must lie in [0, T = {u.shape[0]}), "
                         f"got {washout!r}")
    xp = namespace(u, y)
    xs, state = run(params, u, x0, alpha)
    r = features(xs[washout:, ...], u[washout:, ...], readout)
    S = xp.reshape(r, (-1, r.shape[-1]))        # rows r(n), b-major in n
    Y = xp.reshape(y[washout:, ...], (-1, y.shape[-1]))
    return ridge(S, Y, beta), state


def predict(params, W_out, u, x0, alpha: float = 1.0,
            readout: str = "bias"):
    """y(n) = W_out r(n) for n = 1..T (teacher-forced: u is given).

    Returns:
        (y (T, B, K), State(x(T))).
    """
    xs, state = run(params, u, x0, alpha)
    return features(xs, u, readout) @ W_out.T, state


def generate(params, W_out, u_first, x0, n: int, alpha: float = 1.0,
             readout: str = "bias"):
    """Closed loop: each output is fed back as the next input,
    u(m + 1) = y(m), starting from u(1) = ``u_first`` (B, D); K = D.

    Returns:
        (y (n, B, K), State(x(n))).
    """
    if W_out.shape[0] != params["W_in"].shape[1]:
        raise ValueError(f"closed loop needs K = D: W_out has shape "
                         f"{tuple(W_out.shape)}, W_in "
                         f"{tuple(params['W_in'].shape)}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    xp = namespace(u_first, x0)
    check_array(x0, "x0", shape=(u_first.shape[0], params["W"].shape[0]))
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
                                     c.input_scaling, c.bias_scaling, xp))

    def zero_state(self, B: int = 1) -> State:
        """x(0) = 0 for a batch of B sequences."""
        W = self.params["W"]
        return State(namespace(W).zeros((B, W.shape[0]), dtype=W.dtype,
                                        device=device(W)))

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
