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

The references are ``gru.step_forward``, ``gru.step_backward`` and
``gru.parameter_count``. Every case has non-zero biases and h(t-1).
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
