"""Exercises of chapter 6 (the GRU): specs for ``companion.checks``.

The equations are those of ``solutions/06-gru.md``, in the lectures'
convention (reset before the recurrent product, z weighting the
candidate):

    6.1  one GRU step forward:
         z = σ(W_z X(t) + U_z h(t-1) + b_z),
         r = σ(W_r X(t) + U_r h(t-1) + b_r),
         h~ = tanh(W_h X(t) + U_h (r ∘ h(t-1)) + b_h),
         h(t) = (1 - z) ∘ h(t-1) + z ∘ h~
    6.2  the same step backward, from dh = ∂E/∂h(t): dx, dh(t-1) and the
         gradients of the nine parameters (summed over the batch)
    6.3  the number of parameters of a GRU layer with its output layer,
         3 (H D + H² + H) + K H + K, plus H for PyTorch's b_hn
    6.4  lecture parameters in PyTorch's convention (diagonal U_h): W_z,
         U_z, b_z negated, b_in = b_h, b_hn = 0
    6.5  the half-life of a unit with a constant update gate z:
         (1 - z)^t = 1/2

The references are ``gru.step_forward``, ``gru.step_backward``,
``gru.parameter_count``, the mapping (checked against
``gru.hidden_forward`` in ``tests/test_exercises_ch06.py``) and the decay
bisected. Every case has non-zero biases and h(t-1).
"""

from __future__ import annotations

import numpy as np

from .. import gru
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(r, D, H, scale=0.8):
    """Host lecture-convention GRU parameters, biases non-zero."""
    p = {}
    for key in gru.KEYS["lecture"]:
        shape = {"W": (H, D), "U": (H, H), "b": (H,)}[key[0]]
        spread = {"W": scale, "U": scale / np.sqrt(H), "b": 0.5}[key[0]]
        p[key] = r.normal(0.0, spread, shape)
    return p


def _step_case(label, seed, B, D, H, scale=0.8, backward=False):
    r = _rng(seed)
    inputs = {"params": _params(r, D, H, scale)}
    if backward:
        inputs["dh"] = r.normal(0.0, 1.0, (B, H))
    inputs["x"] = r.normal(0.0, 1.0, (B, D))
    inputs["h_prev"] = r.uniform(-0.9, 0.9, (B, H))
    return Case(label, inputs)


def _cases(backward):
    return [
        _step_case("B = D = H = 1", 60, 1, 1, 1, backward=backward),
        _step_case("B = 3, D = 2, H = 4", 61, 3, 2, 4, backward=backward),
        _step_case("B = 1, D = 3, H = 2", 62, 1, 3, 2, backward=backward),
        _step_case("B = 2, D = 1, H = 1", 63, 2, 1, 1, backward=backward),
        _step_case("B = 4, D = 5, H = 5, large weights", 64, 4, 5, 5,
                   scale=3.0, backward=backward),
    ]


# -- 6.1 one GRU step forward --------------------------------------------


def gru_step(params, x, h_prev):
    """Reference of 6.1: h(t) of the lectures' GRU, (B, H)."""
    return gru.step_forward(params, x, gru.State(h_prev))[0].h


register(Exercise(
    "6.1", "one GRU step (the lectures' convention)", gru_step,
    lambda: _cases(False)))


# -- 6.2 one GRU step backward -------------------------------------------


def gru_step_backward(params, dh, x, h_prev):
    """Reference of 6.2: (dx (B, D), dh_prev (B, H), grads)."""
    _, cache = gru.step_forward(params, x, gru.State(h_prev))
    return gru.step_backward(params, dh, cache)


register(Exercise(
    "6.2", "one GRU step backward", gru_step_backward,
    lambda: _cases(True), outputs=("dx", "dh_prev", "grads")))


# -- 6.3 counting parameters ---------------------------------------------


def gru_parameter_count(D, H, K, convention):
    """Reference of 6.3: entries of a GRU layer and its output layer."""
    return gru.parameter_count(D, H, K, convention)


def _count_cases():
    return [Case(f"D = {d}, H = {h}, K = {k}, {c}",
                 {"D": d, "H": h, "K": k, "convention": c})
            for d, h, k, c in ((1, 1, 1, "lecture"), (1, 1, 1, "pytorch"),
                               (3, 5, 2, "lecture"), (3, 5, 2, "pytorch"),
                               (65, 128, 65, "lecture"),
                               (65, 128, 65, "pytorch"),
                               (300, 256, 10000, "pytorch"))]


register(Exercise(
    "6.3", "the parameters of a GRU layer", gru_parameter_count,
    _count_cases, exact=True))


# -- 6.4 the lectures' GRU in PyTorch's convention -------------------------


def lecture_to_pytorch(params):
    """Reference of 6.4: the update gate negated, b_in = b_h, b_hn = 0."""
    new = {k: -v if k in ("W_z", "U_z", "b_z") else v
           for k, v in params.items() if k != "b_h"}
    new["b_in"], new["b_hn"] = params["b_h"], 0.0 * params["b_h"]
    return new


def _convention_case(label, seed, D, H, K=None):
    p = _params(_rng(seed), D, H)
    p["U_h"] = np.diag(np.diag(p["U_h"]))   # where the two forms agree
    if K:
        p["W_s"] = _rng(seed + 1).normal(0.0, 1.0, (K, H))
        p["b_s"] = _rng(seed + 2).normal(0.0, 1.0, K)
    return Case(label, {"params": p})


def _convention_cases():
    return [_convention_case("D = H = 1", 70, 1, 1),
            _convention_case("D = 3, H = 4", 71, 3, 4),
            _convention_case("D = 2, H = 5, with W_s, b_s", 72, 2, 5, 3),
            _convention_case("D = 4, H = 2", 73, 4, 2),
            _convention_case("D = 1, H = 3, with W_s, b_s", 74, 1, 3, 1)]


register(Exercise(
    "6.4", "the lectures' GRU in PyTorch's convention", lecture_to_pytorch,
    _convention_cases))


# -- 6.5 the half-life of a unit -------------------------------------------


def gru_half_life(z):
    """Reference of 6.5: t with (1 - z)^t = 1/2, found by bisection on
    t ln(1 - z) - ln(1/2) (not the closed form the student derives)."""
    low, high = 0.0, 1.0
    while (1.0 - z) ** high > 0.5:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if (1.0 - z) ** mid > 0.5 else (low, mid)
    return 0.5 * (low + high)


register(Exercise(
    "6.5", "the half-life of a GRU unit", gru_half_life,
    lambda: [Case(f"z = {z}", {"z": z})
             for z in (0.5, 0.1, 0.3, 0.9, 0.01, 0.75)],
    rtol=1e-10, atol=0.0))
