"""The forecasting pieces (companion.data.series), on every backend.

The loader reads matplotlib's Stocks.csv; the split keeps time order;
the scaler uses the training part only; windows are aligned (no
off-by-one); AR by least squares recovers a linear recurrence; the naive
forecast repeats the last value; RMSE and MAE as defined.
"""

import numpy as np
import pytest

from companion import backend as B
from companion.data import series


def _np(x):
    return B.to_numpy(x)


def test_load_stocks_reads_the_sample_file():
    s = series.load_stocks("^GSPC")
    assert s.values.shape == (391,) and s.values.dtype == np.float64
    assert s.dates[0] == "1990-01-01" and s.dates[-1] == "2022-06-28"
    assert s.source == "https://finance.yahoo.com"
    assert np.all(s.values > 0)
    assert sorted(s.dates) == s.dates


def test_load_stocks_rejects_an_unknown_column():
    with pytest.raises(ValueError, match="column must be one of"):
        series.load_stocks("SPY")


def test_time_split_keeps_order(backend):
    s = B.asarray(np.arange(10.0))
    tr, va, te = series.time_split(s, 6, 2)
    assert tuple(tr.shape) == (6,) and tr.dtype == backend.float_dtype
    np.testing.assert_array_equal(_np(tr), np.arange(6.0))
    np.testing.assert_array_equal(_np(va), [6.0, 7.0])
    np.testing.assert_array_equal(_np(te), [8.0, 9.0])
    with pytest.raises(ValueError, match="n_train"):
        series.time_split(s, 8, 2)


def test_scaler_is_fitted_on_train_only(backend):
    s = B.asarray(np.array([1.0, 3.0, 100.0, 200.0]))
    tr, _, _ = series.time_split(s, 2, 1)
    sc = series.fit_scaler(tr)
    assert (sc.mean, sc.std) == (2.0, 1.0)
    z = series.scale(s, sc)
    np.testing.assert_allclose(_np(z), [-1.0, 1.0, 98.0, 198.0])
    np.testing.assert_allclose(_np(series.unscale(z, sc)), _np(s))
    with pytest.raises(ValueError, match="constant"):
        series.fit_scaler(B.asarray(np.ones(3)))


@pytest.mark.parametrize("T, p, h", [(10, 3, 2), (5, 1, 1), (6, 4, 2)])
def test_windows_are_aligned(backend, T, p, h):
    s = B.asarray(np.arange(float(T)))
    X, Y = series.windows(s, p, h)
    M = T - p - h + 1
    assert tuple(X.shape) == (M, p) and tuple(Y.shape) == (M, h)
    assert X.dtype == backend.float_dtype
    for i in range(M):
        np.testing.assert_array_equal(_np(X)[i], np.arange(i, i + p))
        np.testing.assert_array_equal(_np(Y)[i], np.arange(i + p, i + p + h))
    seq = series.as_sequences(X)
    assert tuple(seq.shape) == (p, M, 1)
    np.testing.assert_array_equal(_np(seq)[:, :, 0], _np(X).T)


def test_windows_reject_a_short_series(backend):
    with pytest.raises(ValueError, match="no window"):
        series.windows(B.asarray(np.arange(4.0)), 3, 2)


def test_naive_repeats_the_last_value(backend):
    X = B.asarray(np.array([[1.0, 2.0], [5.0, -3.0]]))
    F = series.naive(X, 3)
    assert tuple(F.shape) == (2, 3) and F.dtype == backend.float_dtype
    np.testing.assert_array_equal(_np(F), [[2.0] * 3, [-3.0] * 3])


def test_ar_recovers_a_linear_recurrence(backend):
    rng = np.random.default_rng(0)
    s = np.zeros(200)
    s[:2] = rng.normal(size=2)
    for t in range(2, 200):  # s(t) = 0.5 + 0.6 s(t-1) - 0.3 s(t-2) + noise
        s[t] = 0.5 + 0.6 * s[t - 1] - 0.3 * s[t - 2] + rng.normal(0, 1e-9)
    X, Y = series.windows(B.asarray(s), 2, 1)
    W = series.fit_ar(X, Y)
    assert tuple(W.shape) == (1, 3) and W.dtype == backend.float_dtype
    np.testing.assert_allclose(_np(W)[0], [0.5, -0.3, 0.6], atol=1e-6)
    np.testing.assert_allclose(_np(series.predict_ar(W, X)), _np(Y),
                               atol=1e-6)


def test_ar_matches_lstsq_and_ridge_shrinks(backend):
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    W = _np(series.fit_ar(B.asarray(X), B.asarray(Y)))
    A = np.concatenate([np.ones((30, 1)), X], axis=1)
    np.testing.assert_allclose(W, np.linalg.lstsq(A, Y, rcond=None)[0].T,
                               rtol=1e-9, atol=1e-12)
    W_r = _np(series.fit_ar(B.asarray(X), B.asarray(Y), beta=10.0))
    assert np.linalg.norm(W_r) < np.linalg.norm(W)
    with pytest.raises(ValueError, match="Y must have shape"):
        series.fit_ar(B.asarray(X), B.asarray(Y[:5]))


def test_rmse_and_mae(backend):
    a = B.asarray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    b = B.asarray(np.array([[1.0, 0.0], [0.0, 4.0]]))
    assert float(series.rmse(a, b)) == pytest.approx(np.sqrt(13 / 4))
    assert float(series.mae(a, b)) == pytest.approx(5 / 4)
    np.testing.assert_allclose(_np(series.mae(a, b, axis=0)), [1.5, 1.0])
