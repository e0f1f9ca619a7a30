"""Exercises of chapter 7 (echo state networks): specs.

The equations are those of ``solutions/07-esn.md``:

    7.1  W · rho / max_i |λ_i(W)|: a matrix scaled to spectral radius rho
    7.2  the leaky update x(n) = (1 - alpha) x(n-1)
         + alpha tanh(W_in u(n) + W x(n-1) + b_in)
    7.3  the ridge readout on r(n) = [1; x(n)] after a washout:
         (S^T S + beta I) W_out^T = S^T Y
    7.4  NRMSE = sqrt(mean((y - y*)^2)) / std(y*), population std

The references are ``init.scale_to_spectral_radius``, ``esn.step``,
``esn.ridge`` on ``esn.features`` and ``esn.nrmse``. Cases include
N = 1 and B = 1, non-normal matrices (whose spectral radius is not their
largest singular value) and complex eigenvalues.
"""

from __future__ import annotations

import numpy as np

from .. import esn, init
from ..backend import namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- 7.1 scaling to a spectral radius --------------------------------------


def _rotation(angle: float, scale: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def _radius_cases():
    r = _rng(70)
    sparse = r.uniform(-1, 1, (20, 20)) * (r.random((20, 20)) < 0.2)
    return [
        Case("N = 1, a negative entry", {"W": np.array([[-0.4]]),
                                         "rho": 0.9}),
        Case("random N = 5, rho = 1.25",
             {"W": r.normal(size=(5, 5)), "rho": 1.25}),
        Case("a rotation: eigenvalues 0.5 e^{±i 1.2}",
             {"W": _rotation(1.2, 0.5), "rho": 0.8}),
        Case("non-normal: triangular, eigenvalues 0.1 and 0.2",
             {"W": np.array([[0.1, 3.0], [0.0, 0.2]]), "rho": 0.95}),
        Case("sparse N = 20, density 0.2, rho = 0.5",
             {"W": sparse, "rho": 0.5}),
    ]


register(Exercise(
    "7.1", "scale a matrix to spectral radius rho",
    init.scale_to_spectral_radius, _radius_cases))


# -- 7.2 the leaky update ---------------------------------------------------


def leaky_step(W_in, W, b_in, u, x_prev, alpha):
    """Reference of 7.2: x(n) of the leaky-integrator reservoir."""
    params = {"W_in": W_in, "W": W, "b_in": b_in}
    return esn.step(params, u, esn.State(x_prev), alpha).x


def _step_case(label, seed, B, D, N, alpha):
    r = _rng(seed)
    return Case(label, {"W_in": r.uniform(-1, 1, (N, D)),
                        "W": r.normal(0.0, 0.6, (N, N)),
                        "b_in": r.uniform(-0.5, 0.5, N),
                        "u": r.normal(size=(B, D)),
                        "x_prev": r.uniform(-1, 1, (B, N)),
                        "alpha": alpha})


def _step_cases():
    return [
        _step_case("B = D = N = 1, alpha = 0.3", 71, 1, 1, 1, 0.3),
        _step_case("B = 3, D = 2, N = 4, alpha = 0.3", 72, 3, 2, 4, 0.3),
        _step_case("B = 1, D = 3, N = 6, alpha = 1 (no leak)", 73, 1, 3, 6,
                   1.0),
        _step_case("B = 2, D = 1, N = 5, alpha = 0.05", 74, 2, 1, 5, 0.05),
        _step_case("B = 4, D = 2, N = 3, alpha = 0.8", 75, 4, 2, 3, 0.8),
    ]


register(Exercise("7.2", "the leaky reservoir update", leaky_step,
                  _step_cases))


# -- 7.3 the ridge readout ---------------------------------------------------


def ridge_readout(xs, y, washout, beta):
    """Reference of 7.3: W_out (K, 1 + N) on r(n) = [1; x(n)], n > washout."""
    xp = namespace(xs, y)
    r = esn.features(xs[washout:, ...])
    S = xp.reshape(r, (-1, r.shape[-1]))
    Y = xp.reshape(y[washout:, ...], (-1, y.shape[-1]))
    return esn.ridge(S, Y, beta)


def _readout_case(label, seed, T, B, N, K, washout, beta):
    r = _rng(seed)
    xs = np.tanh(r.normal(size=(T, B, N)))
    # the first steps (the washout) are far off: they must be dropped
    xs[:washout] += 3.0
    y = r.normal(size=(T, B, K))
    return Case(label, {"xs": xs, "y": y, "washout": washout,
                        "beta": beta})


def _readout_cases():
    return [
        _readout_case("T = 6, B = 1, N = 1, K = 1, washout 2", 76, 6, 1, 1,
                      1, 2, 0.1),
        _readout_case("T = 30, B = 2, N = 5, K = 2, washout 5", 77, 30, 2,
                      5, 2, 5, 1e-3),
        _readout_case("beta = 0 (least squares), washout 10", 78, 40, 1, 8,
                      1, 10, 0.0),
        _readout_case("N = 12 > B (T - washout) = 9: beta needed", 79, 12,
                      1, 12, 3, 3, 0.5),
        _readout_case("no washout, B = 3, K = 3", 80, 10, 3, 4, 3, 0, 1e-2),
    ]


register(Exercise("7.3", "the ridge readout in closed form", ridge_readout,
                  _readout_cases, rtol=1e-7, atol=1e-9))


# -- 7.4 NRMSE ---------------------------------------------------------------


def _nrmse_cases():
    r = _rng(81)
    t = r.normal(2.0, 0.5, (50, 1, 1))
    return [
        Case("T = 4, exact values", {"y": np.array([1.5, 2.0, 2.0, 4.0]),
                                     "target": np.array([1.0, 2.0, 3.0,
                                                         4.0])}),
        Case("T = 50, B = K = 1, mean 2",
             {"y": t + r.normal(0.0, 0.1, t.shape), "target": t}),
        Case("T = 3, B = 2, K = 2, negative mean",
             {"y": r.normal(-1.0, 1.0, (3, 2, 2)),
              "target": r.normal(-1.0, 1.0, (3, 2, 2))}),
        Case("T = 2, B = 1, K = 1", {"y": np.array([[[0.0]], [[3.0]]]),
                                     "target": np.array([[[1.0]], [[2.0]]])}),
        Case("predicting the mean gives 1",
             {"y": np.full(5, 3.0), "target": np.array(
                 [1.0, 2.0, 3.0, 4.0, 5.0])}),
    ]


register(Exercise("7.4", "NRMSE as this course defines it", esn.nrmse,
                  _nrmse_cases, rtol=1e-10, atol=1e-12))
