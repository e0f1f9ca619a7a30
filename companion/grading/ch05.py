"""Exercises of chapter 5 (LSTM): specs for ``companion.checks``.

The equations are those of ``solutions/05-lstm.md`` (f_h = tanh, no
peepholes, separate input and forget gates):

    5.1  one LSTM step: f, i, o = σ(W_g X(t) + U_g h(t-1) + b_g),
         c̃ = tanh(W_c X(t) + U_c h(t-1) + b_c),
         c(t) = f ∘ c(t-1) + i ∘ c̃,  h(t) = o ∘ tanh(c(t))
    5.2  one step back, from dh = ∂E/∂h(t) and dc = ∂E/∂c(t):
         dc ← dc + dh ∘ o ∘ (1 - tanh²(c(t))),
         dz_o = dh ∘ tanh(c(t)) ∘ o(1 - o), dz_f = dc ∘ c(t-1) ∘ f(1 - f),
         dz_i = dc ∘ c̃ ∘ i(1 - i), dz_c = dc ∘ i ∘ (1 - c̃²),
         dc(t-1) = dc ∘ f, dh(t-1) = Σ_g U_g^T dz_g, dX(t) = Σ_g W_g^T dz_g,
         dW_g = dz_g X(t)^T, dU_g = dz_g h(t-1)^T, db_g = dz_g
    5.3  the number of parameters: n_g (HD + H² + H) + n_p H + KH + K with
         n_g = 4 gates (3 when i = 1 - f) and n_p peepholes (3, or 2)
    5.4  one step of a stack in seed 001's block form: (i; f; o; c̃) =
         (σ; σ; σ; tanh) W^l (h_t^{l-1}; h_{t-1}^l; 1), layer by layer
    5.5  the carousel's horizon: the smallest n with σ(b_f)^n < q

The references are ``lstm.step_forward``, ``lstm.step_backward``, the
sizes of ``lstm.init_params``, ``lstm.step_forward`` layer by layer on
the blocks cut back into the package's keys, and the decay simulated
step by step. Biases and the states are non-zero.
"""

from __future__ import annotations

import numpy as np

from .. import lstm
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(r, D, H, scale=1.0):
    """Host LSTM parameters (no output layer), non-zero biases."""
    p = {}
    for g in ("f", "i", "o", "c"):
        p[f"W_{g}"] = r.normal(0.0, 0.8 * scale, (H, D))
        p[f"U_{g}"] = r.normal(0.0, 0.8 / np.sqrt(H), (H, H))
        p[f"b_{g}"] = r.normal(1.0 if g == "f" else 0.0, 0.3, H)
    return p


def _step_inputs(label, seed, B, D, H, scale=1.0, grads=False):
    r = _rng(seed)
    inputs = {"params": _params(r, D, H, scale),
              "x": r.normal(0.0, 1.0, (B, D)),
              "h_prev": r.uniform(-0.9, 0.9, (B, H)),
              "c_prev": r.normal(0.0, 1.0, (B, H))}
    if grads:
        inputs = {"params": inputs["params"],
                  "dh": r.normal(0.0, 1.0, (B, H)),
                  "dc": r.normal(0.0, 1.0, (B, H)),
                  **{k: v for k, v in inputs.items() if k != "params"}}
    return Case(label, inputs)


def _step_cases(grads=False):
    return [
        _step_inputs("B = D = H = 1", 50, 1, 1, 1, grads=grads),
        _step_inputs("B = 3, D = 2, H = 4", 51, 3, 2, 4, grads=grads),
        _step_inputs("B = 1, D = 3, H = 2", 52, 1, 3, 2, grads=grads),
        _step_inputs("B = 4, D = H = 4 (square)", 53, 4, 4, 4, grads=grads),
        _step_inputs("B = 2, D = 3, H = 3, saturated gates", 54, 2, 3, 3,
                     scale=4.0, grads=grads),
    ]


# -- 5.1 one LSTM step -----------------------------------------------------


def step_forward(params, x, h_prev, c_prev):
    """Reference of 5.1: (h(t), c(t))."""
    state, _ = lstm.step_forward(params, x, lstm.State(h_prev, c_prev))
    return state.h, state.c


register(Exercise(
    "5.1", "one LSTM step", step_forward, _step_cases,
    outputs=("h", "c")))


# -- 5.2 one LSTM step back ------------------------------------------------


def step_backward(params, dh, dc, x, h_prev, c_prev):
    """Reference of 5.2: (dx, dh_prev, dc_prev, grads of the 12 keys)."""
    _, cache = lstm.step_forward(params, x, lstm.State(h_prev, c_prev))
    dx, prev, grads = lstm.step_backward(params, lstm.State(dh, dc), cache)
    return dx, prev.h, prev.c, grads


register(Exercise(
    "5.2", "one LSTM step back", step_backward,
    lambda: _step_cases(grads=True),
    outputs=("dx", "dh_prev", "dc_prev", "grads")))


# -- 5.3 the number of parameters ----------------------------------------


def parameter_count(D, H, K, peephole, coupled):
    """Reference of 5.3: the entries of ``lstm.init_params``'s arrays."""
    params = lstm.init_params(D, H, K, 0, peephole=peephole,
                              coupled=coupled, xp=np)
    return int(sum(int(np.prod(v.shape)) for v in params.values()))


def _count_cases():
    sizes = ((1, 1, 1), (3, 5, 2), (10, 20, 10), (1, 128, 1),
             (300, 64, 1000))
    flags = ((False, False), (True, False), (False, True), (True, True),
             (False, False))
    return [Case(f"D = {d}, H = {h}, K = {k}, peephole = {p}, "
                 f"coupled = {c}", {"D": d, "H": h, "K": k,
                                    "peephole": p, "coupled": c})
            for (d, h, k), (p, c) in zip(sizes, flags)] + [
        Case("D = 2, H = 3, K = 1, coupled with peepholes",
             {"D": 2, "H": 3, "K": 1, "peephole": True, "coupled": True})]


register(Exercise(
    "5.3", "the parameters of an LSTM layer", parameter_count,
    _count_cases, exact=True))


# -- 5.4 a stacked step in seed 001's block form --------------------------


def _layer_params(W, n, H):
    """The package's keys of one layer from W^l (rows i, f, o, c)."""
    p = {}
    for k, g in enumerate("ifoc"):
        rows = W[k * H:(k + 1) * H]
        p[f"W_{g}"], p[f"U_{g}"] = rows[:, :n], rows[:, n:n + H]
        p[f"b_{g}"] = rows[:, -1]
    return p


def stack_step(blocks, x, hs_prev, cs_prev):
    """Reference of 5.4: lstm.step_forward layer by layer."""
    below, hs, cs = x, [], []
    for W, h, c in zip(blocks, hs_prev, cs_prev):
        p = _layer_params(W, below.shape[1], h.shape[1])
        state, _ = lstm.step_forward(p, below, lstm.State(h, c))
        below = state.h
        hs.append(state.h)
        cs.append(state.c)
    return hs, cs


def _stack_case(label, seed, B, D, sizes, scale=1.0):
    r = _rng(seed)
    blocks, n = [], D
    for H in sizes:
        W = r.normal(0.0, 0.7 * scale, (4 * H, n + H + 1))
        W[H:2 * H, -1] += 1.0                 # a forget bias near 1
        blocks.append(W)
        n = H
    return Case(label, {
        "blocks": blocks, "x": r.normal(0.0, 1.0, (B, D)),
        "hs_prev": [r.uniform(-0.9, 0.9, (B, H)) for H in sizes],
        "cs_prev": [r.normal(0.0, 1.0, (B, H)) for H in sizes]})


def _stack_cases():
    return [
        _stack_case("one layer, B = D = H = 1", 55, 1, 1, (1,)),
        _stack_case("two layers, B = 3, D = 2, H = 4, 3", 56, 3, 2, (4, 3)),
        _stack_case("three layers, B = 2, D = 3, H = 2, 5, 1", 57, 2, 3,
                    (2, 5, 1)),
        _stack_case("two layers, B = 1, D = 4, H = 4, 4", 58, 1, 4, (4, 4)),
        _stack_case("two layers, saturated gates", 59, 2, 2, (3, 3),
                    scale=4.0),
    ]


register(Exercise(
    "5.4", "a stacked LSTM step in the lectures' block form", stack_step,
    _stack_cases, outputs=("hs", "cs")))


# -- 5.5 the carousel's horizon ------------------------------------------


def carousel_steps(b_f, q):
    """Reference of 5.5: multiply by σ(b_f) until less than q is left
    (a simulation, not the closed form the student derives)."""
    f, n, kept = 1.0 / (1.0 + np.exp(-b_f)), 0, 1.0
    while kept >= q:
        kept *= f
        n += 1
    return n


def _carousel_cases():
    pairs = ((1.0, 0.5), (0.0, 0.5), (0.0, 0.25), (3.0, 0.1), (5.0, 0.01),
             (-1.0, 0.5), (2.0, 1.0), (1.0, 1e-3), (4.0, 0.37))
    return [Case(f"b_f = {b}, q = {q}", {"b_f": b, "q": q})
            for b, q in pairs]


register(Exercise(
    "5.5", "how long the carousel keeps a value", carousel_steps,
    _carousel_cases, exact=True))
