"""The Mackey-Glass time series (Mackey & Glass 1977), chapter 7.

The delay differential equation

    dx/dt = a x(t - tau) / (1 + x(t - tau)^p) - b x(t),
    a = 0.2, b = 0.1, p = 10, tau = 17 (chaotic),

integrated deterministically, exactly as follows:

* constant initial history x(t) = x0 = 1.2 for -tau <= t <= 0;
* classical fourth-order Runge-Kutta with the fixed step h = 0.1, so the
  delay is exactly tau / h = 170 steps; the delayed value needed at the
  half step t + h/2 is the mean of the stored values at t - tau and
  t - tau + h (linear interpolation);
* one sample every ``sample`` = 1 time unit (every 10 steps); the first
  ``discard`` time units (the transient from the flat history) are
  dropped: the series is x(discard), x(discard + 1), ...

Everything runs on the host in float64 and returns a NumPy array; move it
to the backend with ``backend.asarray``. ``one_step_task`` builds the
one-step-ahead prediction task u(n) = s(n), y(n) = s(n + 1).
"""

from __future__ import annotations

import numpy as np

from ..backend import asarray

A, B_DECAY, POWER, TAU = 0.2, 0.1, 10, 17.0


def mackey_glass(n: int, tau: float = TAU, x0: float = 1.2,
                 h: float = 0.1, sample: float = 1.0,
                 discard: int = 0) -> np.ndarray:
    """n samples of the Mackey-Glass series (host float64 array (n,)).

    Args:
        n: number of samples returned.
        tau: the delay (17: chaotic; below ~ 16.8 periodic).
        x0: the constant initial history on [-tau, 0].
        h: the Runge-Kutta step; tau / h and sample / h must be integers.
        sample: time between two samples.
        discard: samples dropped at the start (transient).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(discard, (int, np.integer)) or discard < 0:
        raise ValueError(f"discard must be an int >= 0, got {discard!r}")
    delay, every = round(tau / h), round(sample / h)
    if delay < 1 or abs(delay * h - tau) > 1e-9 or every < 1 or \
            abs(every * h - sample) > 1e-9:
        raise ValueError(f"tau ({tau}) and sample ({sample}) must be "
                         f"positive multiples of the step h ({h})")
    steps = (n + discard - 1) * every
    # x[i] = x(t_i) with t_i = (i - delay) h: indices 0..delay hold history
    x = [float(x0)] * (delay + 1) + [0.0] * steps
    for i in range(delay, delay + steps):
        lag0, lag1 = x[i - delay], x[i - delay + 1]
        lag_half = 0.5 * (lag0 + lag1)
        k1 = _rhs(x[i], lag0)
        k2 = _rhs(x[i] + 0.5 * h * k1, lag_half)
        k3 = _rhs(x[i] + 0.5 * h * k2, lag_half)
        k4 = _rhs(x[i] + h * k3, lag1)
        x[i + 1] = x[i] + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    series = np.asarray(x[delay::every], dtype=np.float64)
    return series[discard:discard + n]


def _rhs(x_t: float, x_lag: float) -> float:
    """dx/dt = a x(t - tau) / (1 + x(t - tau)^p) - b x(t)."""
    return A * x_lag / (1.0 + x_lag ** POWER) - B_DECAY * x_t


def one_step_task(series, horizon: int = 1, xp=None):
    """Inputs u(n) = s(n) and targets y(n) = s(n + horizon), each of
    shape (T, 1, 1) with T = len(series) - horizon, on the backend."""
    s = np.asarray(series, dtype=np.float64).reshape(-1)
    if not isinstance(horizon, (int, np.integer)) or \
            not 1 <= horizon < s.size:
        raise ValueError(f"horizon must lie in [1, {s.size}), got "
                         f"{horizon!r}")
    u = s[:-horizon].reshape(-1, 1, 1)
    y = s[horizon:].reshape(-1, 1, 1)
    return asarray(u, xp=xp), asarray(y, xp=xp)
