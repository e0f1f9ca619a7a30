"""Exercises of chapter 7 (echo state networks): specs.

The equations are those of ``solutions/07-esn.md``:

    7.1  W · rho / max_i |λ_i(W)|: a matrix scaled to spectral radius rho
    7.2  the leaky update x(n) = (1 - alpha) x(n-1)
         + alpha tanh(W_in u(n) + W x(n-1) + b_in)
    7.3  the ridge readout on r(n) = [1; x(n)] after a washout:
         (S^T S + beta I) W_out^T = S^T Y
    7.4  NRMSE = sqrt(mean((y - y*)^2)) / std(y*), population std
    7.5  rho((1 - alpha) I + alpha W) = max_i |1 - alpha + alpha λ_i|,
         from the eigenvalues λ_i of W alone (a derivation)
    7.6  the memory curve of a linear reservoir x(n) = W x(n-1) + w u(n):
         MC_k = (W^k w)^T P^{-1} (W^k w), P = sum_j W^j w w^T (W^T)^j,
         whose sum over k >= 0 is N (the bound MC <= N, derived)

The references are ``init.scale_to_spectral_radius``, ``esn.step``,
``esn.ridge`` on ``esn.features`` and ``esn.nrmse``; those of 7.5 and 7.6
are independent computations on the host (all the eigenvalues of the
leaky matrix; the discrete Lyapunov equation P = W P W^T + w w^T solved
by SciPy). Cases include
N = 1 and B = 1, non-normal matrices (whose spectral radius is not their
largest singular value) and complex eigenvalues.
"""

from __future__ import annotations

import numpy as np

from .. import esn, init
from ..backend import asarray, namespace, to_numpy
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


# -- 7.5 the radius of the leaky update ----------------------------------


def leaky_radius(lam_re, lam_im, alpha):
    """Reference of 7.5: the radius of (1 - alpha) I + alpha W, from the
    eigenvalues of the matrix itself (a real block-diagonal W with the
    eigenvalues λ_i: 2x2 rotation-scaling blocks for complex pairs)."""
    re, im = to_numpy(lam_re), to_numpy(lam_im)
    N = re.size
    W = np.zeros((N, N))
    for i in range(N):
        W[i, i] = re[i]
        if im[i] > 0 and i + 1 < N:
            # [[a, b], [-b, a]] has the eigenvalues a ± i b
            W[i, i + 1], W[i + 1, i] = im[i], -im[i]
    leaky = (1.0 - alpha) * np.eye(N) + alpha * W
    return float(np.max(np.abs(np.linalg.eigvals(leaky))))


def _eig_case(label, lam, alpha):
    lam = np.asarray(lam, dtype=complex)
    return Case(label, {"lam_re": lam.real.copy(), "lam_im": lam.imag.copy(),
                        "alpha": alpha})


def _leaky_cases():
    r = _rng(82)
    z = r.uniform(0.2, 1.2, 3) * np.exp(1j * r.uniform(0.3, 2.8, 3))
    pairs = np.ravel(np.stack([z, z.conj()], axis=1))
    return [
        _eig_case("N = 1, λ = 1.25 (the shortcut holds)", [1.25], 0.3),
        _eig_case("λ = -1.25, 0.5: the leak pulls -1.25 towards 1",
                  [-1.25, 0.5], 0.3),
        _eig_case("a complex pair 1.2 e^{±i 2}", [1.2 * np.exp(2j),
                                                  1.2 * np.exp(-2j)], 0.5),
        _eig_case("alpha = 1: the radius of W", [0.3, -0.9, 0.6], 1.0),
        _eig_case("three random pairs, alpha = 0.1", pairs, 0.1),
        _eig_case("λ = 0.5 ± 1.1 i and -0.2, alpha = 0.7",
                  [0.5 + 1.1j, 0.5 - 1.1j, -0.2], 0.7),
    ]


register(Exercise("7.5", "the radius of the leaky update, derived",
                  leaky_radius, _leaky_cases, rtol=1e-9, atol=1e-12))


# -- 7.6 the memory curve of a linear reservoir ---------------------------


def linear_memory_curve(W, w, max_delay):
    """Reference of 7.6: MC_0..MC_max_delay of the linear reservoir, with
    P from the discrete Lyapunov equation P = W P W^T + w w^T (SciPy)."""
    from scipy.linalg import solve_discrete_lyapunov

    Wh, wh = to_numpy(W), to_numpy(w)
    P = solve_discrete_lyapunov(Wh, wh @ wh.T)
    cols = [np.linalg.matrix_power(Wh, k) @ wh
            for k in range(max_delay + 1)]
    Wkw = np.concatenate(cols, axis=1)
    mc = np.sum(Wkw * np.linalg.solve(P, Wkw), axis=0)
    return asarray(mc, xp=namespace(W))


def _memory_case(label, seed, N, rho, max_delay, kind="normal"):
    r = _rng(seed)
    if kind == "triangular":
        W = np.triu(r.uniform(-1, 1, (N, N)))
    else:
        W = r.normal(size=(N, N))
    W = W * (rho / np.max(np.abs(np.linalg.eigvals(W))))
    return Case(label, {"W": W, "w": r.uniform(-1, 1, (N, 1)),
                        "max_delay": max_delay})


def _memory_cases():
    return [
        Case("N = 1, W = 0.6: MC_k = 0.6^(2k) (1 - 0.36)",
             {"W": np.array([[0.6]]), "w": np.array([[0.7]]),
              "max_delay": 4}),
        _memory_case("N = 3, rho = 0.5, delays 0..6", 83, 3, 0.5, 6),
        _memory_case("N = 5, rho = 0.9, delays 0..40", 84, 5, 0.9, 40),
        _memory_case("non-normal N = 4, rho = 0.7", 85, 4, 0.7, 10,
                     "triangular"),
        _memory_case("max_delay = 0: the current input only", 86, 6, 0.8,
                     0),
        Case("a rotation by 0.8 rad, radius 0.85, N = 2",
             {"W": 0.85 * np.array([[np.cos(0.8), -np.sin(0.8)],
                                    [np.sin(0.8), np.cos(0.8)]]),
              "w": np.array([[1.0], [0.0]]), "max_delay": 12}),
    ]


register(Exercise("7.6", "the memory curve of a linear reservoir",
                  linear_memory_curve, _memory_cases, rtol=1e-7,
                  atol=1e-10))
