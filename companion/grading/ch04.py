"""Exercises of chapter 4 (vanishing and exploding gradients): specs.

The equations are those of ``solutions/04-vanishing-exploding.md``:

    4.1  the Jacobian of one tanh step, batched (B, H, H):
         ∂h(t)/∂h(t-1) = diag(1 - tanh(z_h(t))²) W_h
    4.2  ‖∂h(T)/∂h(T-ℓ)‖₂ for ℓ = 1..T, with
         ∂h(T)/∂h(T-ℓ) = J(T) J(T-1) ··· J(T-ℓ+1),
         J(j) = diag(1 - h(j)²) W_h; result (T, B)
    4.3  the adding problem from its draws: x (T, B, 2) = (v, m) with
         m = 1 at t1 and t2, y (T, B, 1) = v(t1) + v(t2) at the last
         step, mask (T, B) = 1 at the last step
    4.4  the copy task's memoryless baseline n ln A / (T + 2n)
    4.5  the saddle-node weight w*(b) of h = tanh(w h + b), b < 0: the
         root of w s - atanh(s) = -b, s = sqrt(1 - 1/w)
    4.6  the largest fixed point h* and dh*/dw = h* (1 - h*²) /
         (1 - w (1 - h*²))
    4.7  the backward pass of z = g ∘ (a - μ) / sqrt(σ² + ε) + b:
         (da, dg, db), dg and db summed over the batch

The references are ``gradnorms.step_jacobian``,
``gradnorms.jacobian_norms``, ``data.tasks.adding_batch``,
``data.tasks.copy_baseline``, ``bifurcation.fold_weight``,
``bifurcation.fixed_point_slope`` and ``layernorm.normalise_backward``.
"""

from __future__ import annotations

import numpy as np

from .. import bifurcation, gradnorms, layernorm
from ..backend import namespace
from .spec import Case, Exercise, register
from ..data import tasks


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- 4.1 the Jacobian of one step ------------------------------------------


def step_jacobian(W_h, z_h):
    """Reference of 4.1: diag(tanh'(z_h(t))) W_h, (B, H, H)."""
    return gradnorms.step_jacobian(W_h, namespace(z_h).tanh(z_h), "tanh")


def _jacobian_case(label, seed, B, H, scale=1.0):
    r = _rng(seed)
    return Case(label, {"W_h": r.normal(0.0, 1.0 / np.sqrt(H), (H, H)),
                        "z_h": r.normal(0.0, scale, (B, H))})


def _jacobian_cases():
    return [
        _jacobian_case("B = H = 1", 60, 1, 1),
        _jacobian_case("B = 3, H = 4", 61, 3, 4),
        _jacobian_case("B = 1, H = 5", 62, 1, 5),
        _jacobian_case("B = 4, H = 2, saturated units (|z| ~ 3)", 63, 4, 2,
                       scale=3.0),
        Case("B = 2, H = 3, some z < 0", {
            "W_h": np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.4],
                             [1.2, 0.1, 0.7]]),
            "z_h": np.array([[-0.5, 0.2, -1.5], [0.9, -0.3, 0.0]])}),
    ]


register(Exercise(
    "4.1", "the Jacobian of one tanh step", step_jacobian, _jacobian_cases))


# -- 4.2 the norm of a product of Jacobians --------------------------------


def jacobian_norms(W_h, hs):
    """Reference of 4.2: ‖∂h(T)/∂h(T-ℓ)‖₂, (T, B)."""
    return gradnorms.jacobian_norms(W_h, hs, "tanh")


def _norms_case(label, seed, T, B, H, gain=1.0):
    r = _rng(seed)
    W_h = r.normal(0.0, gain / np.sqrt(H), (H, H))
    W_e = r.normal(0.0, 1.0, (H, 2))
    hs = [r.normal(0.0, 0.5, (B, H))]
    for _ in range(T):
        hs.append(np.tanh(r.normal(0.0, 1.0, (B, 2)) @ W_e.T
                          + hs[-1] @ W_h.T))
    return Case(label, {"W_h": W_h, "hs": np.stack(hs)})


def _norms_cases():
    return [
        _norms_case("T = 1, B = 1, H = 1", 70, 1, 1, 1),
        _norms_case("T = 6, B = 2, H = 3", 71, 6, 2, 3),
        _norms_case("T = 10, B = 1, H = 4, large W_h", 72, 10, 1, 4,
                    gain=2.5),
        _norms_case("T = 5, B = 3, H = 1", 73, 5, 3, 1),
        _norms_case("T = 8, B = 2, H = 5", 74, 8, 2, 5),
    ]


register(Exercise(
    "4.2", "the norm of a product of Jacobians", jacobian_norms,
    _norms_cases, rtol=1e-8, atol=1e-12))


# -- 4.3 the adding problem ----------------------------------------------


def adding_batch(values, first, second):
    """Reference of 4.3: (x, y, mask) of the adding problem."""
    return tuple(tasks.adding_batch(values, first, second))


def _adding_case(label, seed, T, B, first=None, second=None):
    r = _rng(seed)
    if first is None:
        first = r.integers(0, T // 2, B)
        second = r.integers(T // 2, T, B)
    return Case(label, {"values": r.uniform(0.0, 1.0, (T, B)),
                        "first": np.asarray(first, dtype=np.int64),
                        "second": np.asarray(second, dtype=np.int64)})


def _adding_cases():
    return [
        _adding_case("T = 2, B = 1", 80, 2, 1, [0], [1]),
        _adding_case("T = 6, B = 3", 81, 6, 3),
        _adding_case("T = 10, B = 1, markers at the ends", 82, 10, 1, [0],
                     [9]),
        _adding_case("T = 7, B = 4", 83, 7, 4),
        _adding_case("T = 5, B = 2, adjacent markers", 84, 5, 2, [1, 0],
                     [2, 1]),
    ]


register(Exercise(
    "4.3", "a batch of the adding problem", adding_batch, _adding_cases,
    outputs=("x", "y", "mask")))


# -- 4.4 the copy task's baseline -----------------------------------------


def _baseline_cases():
    return [Case(f"T = {T}, n = {n}, A = {A}", {"T": T, "n": n, "A": A})
            for T, n, A in ((1, 1, 2), (100, 10, 8), (10, 10, 8),
                            (500, 10, 8), (3, 2, 5), (50, 1, 1))]


register(Exercise(
    "4.4", "the baseline of the copy task",
    lambda T, n, A: tasks.copy_baseline(T, n, A), _baseline_cases,
    rtol=1e-12))


# -- 4.5 the bifurcation weight ---------------------------------------------


def _fold_cases():
    return [Case(f"b = {b}", {"b": b})
            for b in (-0.5, -0.01, -0.2, -1.0, -2.0, -3.5)]


register(Exercise(
    "4.5", "the saddle-node weight w*(b)", bifurcation.fold_weight,
    _fold_cases, rtol=1e-9))


# -- 4.6 the sensitivity of the fixed point ---------------------------------


def _slope_cases():
    return [Case(f"w = {w}, b = {b}", {"w": w, "b": b})
            for w, b in ((2.2, -0.5), (3.0, -0.5), (1.97, -0.5),
                         (2.0, -0.2), (1.5, 0.3), (0.5, 0.1), (5.0, -2.0))]


register(Exercise(
    "4.6", "the fixed point and its sensitivity dh*/dw",
    bifurcation.fixed_point_slope, _slope_cases,
    outputs=("h_star", "dh_dw"), rtol=1e-8, atol=1e-12))


# -- 4.7 the backward pass of layer normalisation ---------------------------


def layer_norm_backward(dz, g, a, eps):
    """Reference of 4.7: (da, dg, db) of z = g ∘ â + b."""
    xp = namespace(a)
    _, norm = layernorm.normalise(a, g, xp.zeros_like(g), eps)
    return layernorm.normalise_backward(dz, g, norm)


def _ln_case(label, seed, B, H, eps=1e-5, scale=1.0):
    r = _rng(seed)
    return Case(label, {"dz": r.normal(0.0, 1.0, (B, H)),
                        "g": r.uniform(0.5, 1.5, H),
                        "a": r.normal(0.3, scale, (B, H)), "eps": eps})


def _ln_cases():
    return [
        _ln_case("B = 1, H = 2", 90, 1, 2),
        _ln_case("B = 3, H = 4", 91, 3, 4),
        _ln_case("B = 2, H = 6, small a (eps matters)", 92, 2, 6,
                 scale=0.01),
        _ln_case("B = 4, H = 3, eps = 0", 93, 4, 3, eps=0.0),
        _ln_case("B = 5, H = 8, large a", 94, 5, 8, scale=10.0),
    ]


register(Exercise(
    "4.7", "the backward pass of layer normalisation", layer_norm_backward,
    _ln_cases, outputs=("da", "dg", "db"), rtol=1e-8, atol=1e-12))
