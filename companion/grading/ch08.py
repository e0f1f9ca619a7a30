"""Exercises of chapter 8 (applications): specs.

The equations are those of ``solutions/08-applications.md``:

    8.1  a time-ordered split (train, validation, test) scaled by the mean
         and population standard deviation of the training part only
    8.2  the direct AR(p) fit by least squares with an intercept:
         W (h, 1 + p) = argmin Σ_i ‖Y_i - W [1; X_i]‖²
    8.3  perplexity = exp(mean_t -ln o(t)[y(t)]) from scores z (T, B, V)
         and targets y (T, B)

The references are ``series.time_split``/``fit_scaler``/``scale``,
``series.fit_ar`` and a log-softmax. Cases include the smallest sizes
(one validation value, p = 1, T = B = 1).
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import namespace
from .spec import Case, Exercise, register
from ..data import series


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- 8.1 split and scale ----------------------------------------------------


def split_and_scale(s, n_train, n_val):
    """Reference of 8.1: the three parts scaled with the train's m, σ."""
    parts = series.time_split(s, n_train, n_val)
    scaler = series.fit_scaler(parts[0])
    return tuple(series.scale(p, scaler) for p in parts)


def _split_cases():
    r = _rng(80)
    trend = np.cumsum(r.normal(0.5, 1.0, 40))   # later values are larger
    return [
        Case("T = 5, one validation and one test value",
             {"s": np.array([1.0, 2.0, 4.0, 8.0, 16.0]), "n_train": 3,
              "n_val": 1}),
        Case("a trend, T = 40, 28 / 6 / 6", {"s": trend, "n_train": 28,
                                             "n_val": 6}),
        Case("T = 12, 6 / 3 / 3", {"s": r.normal(3.0, 2.0, 12),
                                   "n_train": 6, "n_val": 3}),
        Case("two training values", {"s": np.array([0.0, 2.0, 5.0, -1.0]),
                                     "n_train": 2, "n_val": 1}),
        Case("T = 30, 10 / 15 / 5", {"s": r.exponential(1.0, 30),
                                     "n_train": 10, "n_val": 15}),
    ]


register(Exercise("8.1", "a time-ordered split, scaled on train only",
                  split_and_scale, _split_cases))


# -- 8.2 the AR least-squares fit -------------------------------------------


def _ar_case(label, seed, M, p, h):
    r = _rng(seed)
    X = r.normal(size=(M, p))
    W = r.normal(size=(h, 1 + p))
    Y = W[:, 0] + X @ W[:, 1:].T + r.normal(0, 0.1, (M, h))
    return Case(label, {"X": X, "Y": Y + 2.0})


def _ar_cases():
    return [
        _ar_case("p = 1, h = 1, M = 5", 81, 5, 1, 1),
        _ar_case("p = 3, h = 2, M = 20", 82, 20, 3, 2),
        _ar_case("p = 12, h = 6, M = 50", 83, 50, 12, 6),
        _ar_case("p = 2, h = 4, M = 4 (barely determined)", 84, 4, 2, 4),
        _ar_case("p = 5, h = 1, M = 30", 85, 30, 5, 1),
    ]


register(Exercise("8.2", "the AR(p) fit by least squares",
                  series.fit_ar, _ar_cases, rtol=1e-7, atol=1e-9))


# -- 8.3 perplexity ----------------------------------------------------------


def perplexity(z, y):
    """Reference of 8.3: exp of the mean cross-entropy in nats."""
    xp = namespace(z)
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    log_o = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1,
                                    keepdims=True))
    picked = xp.take_along_axis(log_o, y[..., None], axis=-1)
    return math.exp(-float(xp.mean(picked)))


def _ppl_case(label, seed, T, B, V, scale=1.0):
    r = _rng(seed)
    return Case(label, {"z": r.normal(0.0, scale, (T, B, V)),
                        "y": r.integers(0, V, (T, B))})


def _ppl_cases():
    return [
        Case("uniform scores: perplexity V = 4",
             {"z": np.zeros((2, 1, 4)), "y": np.array([[0], [3]])}),
        _ppl_case("T = B = 1, V = 3", 86, 1, 1, 3),
        _ppl_case("T = 5, B = 3, V = 7", 87, 5, 3, 7),
        _ppl_case("large scores (T = 4, B = 2, V = 5)", 88, 4, 2, 5, 300.0),
        _ppl_case("T = 20, B = 1, V = 30", 89, 20, 1, 30, 3.0),
        Case("scores ±1000, targets near the top (T = 2, B = 2, V = 4)",
             {"z": np.array([[[1000.0, 999.5, -1000.0, 998.0],
                              [-1000.0, 1000.0, 999.0, 0.0]],
                             [[999.0, 1000.0, 998.5, -999.0],
                              [1000.0, -1000.0, 0.0, 999.8]]]),
              "y": np.array([[1, 2], [0, 3]])}),
    ]


register(Exercise("8.3", "perplexity from the cross-entropy", perplexity,
                  _ppl_cases, rtol=1e-9, atol=1e-12))


# -- 8.4 the naive and the drift forecasts -------------------------------


def forecast_mses(mu_train, mu_test, var_test):
    """Reference of 8.4: the two MSEs measured on a test series built to
    have exactly the given mean and population variance (not the closed
    form): r = mu_test ± sqrt(var_test), half each."""
    s = math.sqrt(var_test)
    r = np.array([mu_test + s, mu_test - s] * 4)
    return (float(np.mean(r ** 2)), float(np.mean((r - mu_train) ** 2)))


register(Exercise(
    "8.4", "the naive and the drift forecasts' errors", forecast_mses,
    lambda: [Case(f"mu_train = {a}, mu_test = {b}, var_test = {v}",
                  {"mu_train": a, "mu_test": b, "var_test": v})
             for a, b, v in ((0.0, 0.0, 1.0), (0.5, 0.5, 1.0),
                             (0.007, 0.009, 0.0016), (0.3, -0.2, 0.25),
                             (-1.0, 2.0, 0.0), (0.01, 0.0, 4.0))],
    outputs=("naive", "drift"), rtol=1e-9, atol=1e-15))


# -- 8.5 digits right and strings right ----------------------------------


def digit_accuracy_needed(a, L):
    """Reference of 8.5: p with p^L = a, by bisection on [0, 1]."""
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if mid ** L < a else (low, mid)
    return 0.5 * (low + high)


register(Exercise(
    "8.5", "per-digit accuracy from whole-string accuracy",
    digit_accuracy_needed,
    lambda: [Case(f"a = {a}, L = {L}", {"a": a, "L": L})
             for a, L in ((0.5, 5), (0.9, 1), (0.25, 2), (0.99, 20),
                          (0.1, 5), (1.0, 8))],
    rtol=1e-12, atol=1e-15))
