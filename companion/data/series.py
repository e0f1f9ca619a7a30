"""A real time series, and the pieces of an honest forecast (chapter 8).

The series: monthly closing values of stock indices and shares,
1990-2022, in ``Stocks.csv``, a sample file that ships with matplotlib
(``matplotlib.cbook.get_sample_data``); the file's first line names its
source, Yahoo! Finance (https://finance.yahoo.com). Nothing is
downloaded: the file is read from the installed package.

The protocol of the chapter:

* split in time order: train = s(1..n_tr), validation = the next n_va
  values, test = the rest (never shuffled: the future must stay unseen);
* scale with the mean m and standard deviation σ of the training part
  only: s'(t) = (s(t) - m) / σ;
* windows: input X_i = (s(i), ..., s(i+p-1)), target
  Y_i = (s(i+p), ..., s(i+p+h-1)): p past values, h future ones;
* baselines: the naive forecast ŝ(t+k) = s(t) for k = 1..h, and the
  linear autoregressive model AR(p) fitted by least squares,
  Y_i ≈ W [1; X_i], one row of W per horizon k (direct multi-step);
* errors: RMSE = sqrt(mean (ŷ - y)²) and MAE = mean |ŷ - y|, per horizon.

Loading is on the host (NumPy); every other function takes the array
namespace from its inputs and works on any backend.
"""

from __future__ import annotations

import csv
from typing import NamedTuple

import numpy as np

from .._validate import check_array
from ..backend import device, namespace

COLUMNS = ("IBM", "AAPL", "MSFT", "XRX", "AMZN", "DELL", "GOOGL", "ADBE",
           "^GSPC", "^IXIC")


class Series(NamedTuple):
    """A named series: dates (host strings), values (host float64 (T,))."""

    name: str
    dates: list[str]
    values: np.ndarray
    source: str


class Scaler(NamedTuple):
    """Mean and standard deviation fitted on the training part only."""

    mean: float
    std: float


def load_stocks(column: str = "^GSPC") -> Series:
    """Monthly closes of one column of matplotlib's ``Stocks.csv``.

    Rows where the column is empty (the file interleaves a few dated rows
    with no values) are skipped. ``^GSPC`` is the S&P 500 index (391
    months, 1990-01 to 2022-06), ``^IXIC`` the Nasdaq Composite.
    """
    if column not in COLUMNS:
        raise ValueError(f"column must be one of {COLUMNS}, got {column!r}")
    from matplotlib import cbook

    path = cbook.get_sample_data("Stocks.csv", asfileobj=False)
    with open(path, encoding="utf-8") as handle:
        source = handle.readline().split(":", 1)[1].strip()
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if r[column].strip()]
    return Series(column, [r["Date"] for r in kept],
                  np.array([float(r[column]) for r in kept]), source)


def time_split(s, n_train: int, n_val: int):
    """(train, validation, test): s[:n_train], the next n_val, the rest.

    In time order, never shuffled; each part is at least one value.
    """
    T = s.shape[0]
    if not (n_train >= 1 and n_val >= 1 and n_train + n_val < T):
        raise ValueError(f"need n_train >= 1, n_val >= 1 and n_train + "
                         f"n_val < T = {T}, got {n_train}, {n_val}")
    return (s[:n_train, ...], s[n_train:n_train + n_val, ...],
            s[n_train + n_val:, ...])


def fit_scaler(train) -> Scaler:
    """m and σ (population, ddof 0) of the training part only."""
    xp = namespace(train)
    if train.shape[0] < 2:
        raise ValueError(f"need >= 2 training values, got {train.shape}")
    std = float(xp.std(train))
    if std == 0.0:
        raise ValueError("the training part is constant: σ = 0")
    return Scaler(float(xp.mean(train)), std)


def scale(s, scaler: Scaler):
    """s' = (s - m) / σ."""
    return (s - scaler.mean) / scaler.std


def unscale(s, scaler: Scaler):
    """s = σ s' + m (the inverse of ``scale``)."""
    return s * scaler.std + scaler.mean


def windows(s, p: int, h: int):
    """Inputs X (M, p) and targets Y (M, h), M = T - p - h + 1:
    X_i = s(i..i+p-1), Y_i = s(i+p..i+p+h-1) (0-based i)."""
    check_array(s, "s", ndim=1)
    xp = namespace(s)
    M = s.shape[0] - p - h + 1
    if p < 1 or h < 1 or M < 1:
        raise ValueError(f"a series of {s.shape[0]} values has no window "
                         f"of p = {p} inputs and h = {h} targets")
    X = xp.stack([s[i:i + p] for i in range(M)], axis=0)
    Y = xp.stack([s[i + p:i + p + h] for i in range(M)], axis=0)
    return X, Y


def as_sequences(X):
    """Windows X (M, p) as a time-major batch (p, M, 1) for an RNN."""
    check_array(X, "X", ndim=2)
    xp = namespace(X)
    return xp.reshape(X.T, (X.shape[1], X.shape[0], 1))


def naive(X, h: int):
    """The last-value forecast: ŝ(t+k) = s(t), k = 1..h; (M, h)."""
    check_array(X, "X", ndim=2)
    xp = namespace(X)
    return xp.broadcast_to(X[:, -1:], (X.shape[0], h)) * 1.0


def _design(X):
    """[1; X_i] as rows: (M, 1 + p)."""
    xp = namespace(X)
    ones = xp.ones((X.shape[0], 1), dtype=X.dtype, device=device(X))
    return xp.concat([ones, X], axis=1)


def fit_ar(X, Y, beta: float = 0.0):
    """AR(p), direct: W (h, 1 + p) minimising Σ_i ‖Y_i - W [1; X_i]‖²
    (+ β ‖W‖², intercept included), by (A^T A + β I) W^T = A^T Y."""
    check_array(X, "X", ndim=2)
    check_array(Y, "Y", ndim=2, shape=(X.shape[0], None))
    xp = namespace(X, Y)
    A = _design(X)
    eye = xp.eye(A.shape[1], dtype=X.dtype, device=device(X))
    return xp.linalg.solve(A.T @ A + beta * eye, A.T @ Y).T


def predict_ar(W, X):
    """Ŷ_i = W [1; X_i]: the h forecasts of each window, (M, h)."""
    check_array(X, "X", ndim=2, shape=(None, W.shape[1] - 1))
    return _design(X) @ W.T


def rmse(y_hat, y, axis=None):
    """sqrt(mean((ŷ - y)²)), over all values or along ``axis``."""
    xp = namespace(y_hat, y)
    return xp.sqrt(xp.mean((y_hat - y) ** 2, axis=axis))


def mae(y_hat, y, axis=None):
    """mean |ŷ - y|, over all values or along ``axis``."""
    xp = namespace(y_hat, y)
    return xp.mean(xp.abs(y_hat - y), axis=axis)
