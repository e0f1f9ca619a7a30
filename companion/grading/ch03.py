"""Exercises of chapter 3 (backpropagation through time): specs.

The equations are those of ``solutions/03-bptt.md`` (f_h = tanh):

    3.1  one step of RNNBACK, from dh = ∂E/∂h(t):
         dz_h = (1 - h(t)²) ∘ dh,  dW_e = dz_h X(t)^T,
         dW_h = dz_h h(t-1)^T,  db_e = dz_h,
         dX(t) = W_e^T dz_h,  dh(t-1) = W_h^T dz_h (summed over the batch)
    3.2  RNNBACK over a sequence, from dz_s(t) = ∂E/∂z_s(t), t = T..1:
         db_s += dz_s, dW_s += dz_s h(t)^T, dh = W_s^T dz_s + dh_next,
         then 3.1, dh_next = W_h^T dz_h; returns the grads and dh(0)
    3.3  the windows (start, new, end) of truncated BPTT: every stride
         steps, the last ``length`` steps are unrolled and the loss of
         the new steps [new, end) is counted
    3.4  truncated BPTT: E and its gradient summed over the windows, each
         unrolled from the state h(start) of the forward pass and
         back-propagated within the window, the loss of its new steps only
    3.5  one window of the lectures' stride-1 BPTT: E = E(o(k), y(k))
         (mean over B) and its gradient, summed over the k copies
    3.6  dz_s = f_s'(z_s)^T dL/do for o = softmax(z_s) and
         L = ½ ||o - y||²: o ∘ (o - y) - o (o · (o - y))
    3.7  a prediction: steps run forward and backward by the lectures'
         algorithm ((n - k + 1)(k + 1) and (n - k + 1) k per pass) and by
         disjoint windows (n and n)

The references are ``rnn.step_backward``, ``rnn.backward``,
``bptt.windows`` and ``bptt.truncated_bptt``. Every case builds its
states h(t) with the forward recurrence on the host, so that the caches
are those of a real forward pass; biases and h(0) are non-zero.
"""

from __future__ import annotations

import numpy as np

from .. import bptt, rnn
from ..backend import device, namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(r, D, H, K=None):
    """Host Elman parameters with non-zero biases (K=None: hidden only)."""
    p = {"W_e": r.normal(0.0, 0.8, (H, D)),
         "W_h": r.normal(0.0, 0.8 / np.sqrt(H), (H, H)),
         "b_e": r.normal(0.0, 0.3, H)}
    if K is not None:
        p["W_s"] = r.normal(0.0, 0.8, (K, H))
        p["b_s"] = r.normal(0.0, 0.3, K)
    return p


def _states(p, x, h0):
    """h(0), h(1), ..., h(T) of the tanh recurrence, on the host."""
    hs = [h0]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ p["W_e"].T + hs[-1] @ p["W_h"].T
                          + p["b_e"]))
    return np.stack(hs)


# -- 3.1 one step of RNNBACK ----------------------------------------------


def step_backward(params, dh, x, h_prev, h):
    """Reference of 3.1: (dx, dh_prev, grads {W_e, W_h, b_e})."""
    cache = rnn.StepCache(x, h_prev, h, "tanh")
    return rnn.step_backward(params, dh, cache)


def _step_case(label, seed, B, D, H, scale=1.0):
    r = _rng(seed)
    p = _params(r, D, H)
    p["W_e"] = p["W_e"] * scale  # scale 3: saturated units, h(t) near ±1
    x = r.normal(0.0, 1.0, (B, D))
    h_prev = r.uniform(-0.9, 0.9, (B, H))
    h = _states(p, x[None], h_prev)[1]
    return Case(label, {"params": p, "dh": r.normal(0.0, 1.0, (B, H)),
                        "x": x, "h_prev": h_prev, "h": h})


def _step_cases():
    return [
        _step_case("B = D = H = 1", 30, 1, 1, 1),
        _step_case("B = 3, D = 2, H = 4", 31, 3, 2, 4),
        _step_case("B = 1, D = 3, H = 2", 32, 1, 3, 2),
        _step_case("B = 4, D = 4, H = 4 (square)", 33, 4, 4, 4),
        _step_case("B = 2, D = 3, H = 3, saturated units", 34, 2, 3, 3,
                   scale=3.0),
    ]


register(Exercise(
    "3.1", "one step of RNNBACK", step_backward, _step_cases,
    outputs=("dx", "dh_prev", "grads")))


# -- 3.2 RNNBACK over a sequence ------------------------------------------


def rnn_backward(params, dz_s, x, hs):
    """Reference of 3.2: (grads of the five parameters, dh(0))."""
    back = rnn.backward(params, dz_s, rnn.Cache(x, hs, "tanh"))
    return back.grads, back.dh0


def _sequence_case(label, seed, T, B, D, H, K):
    r = _rng(seed)
    p = _params(r, D, H, K)
    x = r.normal(0.0, 1.0, (T, B, D))
    hs = _states(p, x, r.normal(0.0, 0.5, (B, H)))
    return Case(label, {"params": p,
                        "dz_s": r.normal(0.0, 1.0, (T, B, K)),
                        "x": x, "hs": hs})


def _sequence_cases():
    return [
        _sequence_case("T = 1, B = 2, D = 2, H = 3, K = 2", 40, 1, 2, 2, 3,
                       2),
        _sequence_case("T = 4, B = 1, D = H = K = 1", 41, 4, 1, 1, 1, 1),
        _sequence_case("T = 5, B = 3, D = 2, H = 4, K = 3", 42, 5, 3, 2, 4,
                       3),
        _sequence_case("T = 3, B = 3, D = H = K = 3", 43, 3, 3, 3, 3, 3),
        _sequence_case("T = 8, B = 2, D = 3, H = 2, K = 4", 44, 8, 2, 3, 2,
                       4),
    ]


register(Exercise(
    "3.2", "RNNBACK over a whole sequence", rnn_backward, _sequence_cases,
    outputs=("grads", "dh0")))


# -- 3.3 the windows -----------------------------------------------------


def _windows_cases():
    return [Case(f"T = {T}, length = {k}, stride = {s}",
                 {"T": T, "length": k, "stride": s})
            for T, k, s in ((1, 1, 1), (7, 3, 3), (6, 2, 2), (7, 4, 2),
                            (10, 3, 1), (5, 9, 2), (10, 10, 10),
                            (12, 5, 3))]


register(Exercise(
    "3.3", "the windows of truncated BPTT", bptt.windows, _windows_cases,
    exact=True))


# -- 3.4 truncated BPTT ---------------------------------------------------


def truncated_gradient(params, x, y, h0, length, stride):
    """Reference of 3.4: (E, grads) of truncated BPTT."""
    res = bptt.truncated_bptt(params, x, y, h0, length, stride)
    return res.loss, res.grads


def _truncated_case(label, seed, T, B, V, H, length, stride):
    r = _rng(seed)
    return Case(label, {"params": _params(r, V, H, V),
                        "x": r.normal(0.0, 1.0, (T, B, V)),
                        "y": r.integers(0, V, (T, B)),
                        "h0": r.normal(0.0, 0.5, (B, H)),
                        "length": length, "stride": stride})


def _truncated_cases():
    return [
        _truncated_case("T = 1, length = stride = 1, B = 2, H = 2", 50, 1,
                        2, 3, 2, 1, 1),
        _truncated_case("T = 6, length = stride = 2, B = 1, H = 1", 51, 6,
                        1, 3, 1, 2, 2),
        _truncated_case("T = 7, length = stride = 3", 52, 7, 2, 4, 5, 3, 3),
        _truncated_case("T = 8, length = 3, stride = 1, B = 3", 53, 8, 3,
                        3, 4, 3, 1),
        _truncated_case("T = 9, length = 4, stride = 2", 54, 9, 2, 5, 3, 4,
                        2),
        _truncated_case("T = 5, length = stride = 5: full BPTT", 55, 5, 2,
                        3, 3, 5, 5),
        _truncated_case("T = 4, length = 9, stride = 3", 56, 4, 2, 3, 3, 9,
                        3),
    ]


register(Exercise(
    "3.4", "truncated BPTT", truncated_gradient, _truncated_cases,
    outputs=("E", "grads")))


# -- 3.5 one window of the lectures' stride-1 BPTT ------------------------


def window_gradient(params, x, y, h):
    """Reference of 3.5: (E, grads) of a window's last-step error."""
    res = bptt.last_error_bptt(params, x, y, h)
    return res.loss, res.grads


def _window_cases():
    cases = []
    for label, seed, k, B, V, H in (
            ("k = 1, B = 2, V = 3, H = 2", 60, 1, 2, 3, 2),
            ("k = 3, B = 1, V = 3, H = 1", 61, 3, 1, 3, 1),
            ("k = 4, B = 3, V = 4, H = 5", 62, 4, 3, 4, 5),
            ("k = 5, B = 2, V = 5, H = 3", 63, 5, 2, 5, 3),
            ("k = 2, B = 4, V = 2, H = 4", 64, 2, 4, 2, 4)):
        r = _rng(seed)
        cases.append(Case(label, {"params": _params(r, V, H, V),
                                  "x": r.normal(0.0, 1.0, (k, B, V)),
                                  "y": r.integers(0, V, (k, B)),
                                  "h": r.normal(0.0, 0.5, (B, H))}))
    return cases


register(Exercise(
    "3.5", "one window of the lectures' BPTT", window_gradient,
    _window_cases, outputs=("E", "grads")))


# -- 3.6 dz_s of a softmax output with the squared error ------------------


def dz_s_softmax_mse(z, y):
    """Reference of 3.6: the general rule with the softmax's Jacobian.

    dz_s = J^T dL/do with J_ij = o_i (δ_ij - o_j), dL/do = o - y, for
    L = ½ Σ_b ||softmax(z_b) - y_b||².
    """
    xp = namespace(z)
    o = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    o = o / xp.sum(o, axis=-1, keepdims=True)
    K = z.shape[-1]
    eye = xp.eye(K, dtype=z.dtype, device=device(z))
    jac = o[:, :, None] * (eye[None, ...] - o[:, None, :])  # (B, i, j)
    return xp.sum(jac * (o - y)[:, :, None], axis=1)


def _softmax_mse_cases():
    cases = []
    for label, seed, B, K, scale in (
            ("B = 1, K = 2", 70, 1, 2, 1.0), ("B = 3, K = 4", 71, 3, 4, 1.0),
            ("B = 2, K = 5, large logits", 72, 2, 5, 6.0),
            ("B = 4, K = 3, one-hot targets", 73, 4, 3, 1.0),
            ("B = 2, K = 1", 74, 2, 1, 1.0)):
        r = _rng(seed)
        y = r.dirichlet(np.ones(K), B)
        if "one-hot" in label:
            y = np.eye(K)[r.integers(0, K, B)]
        cases.append(Case(label, {"z": r.normal(0.0, scale, (B, K)),
                                  "y": y}))
    return cases


register(Exercise(
    "3.6", "dz_s of a softmax output with the squared error",
    dz_s_softmax_mse, _softmax_mse_cases))


# -- 3.7 a prediction: the steps each algorithm runs ----------------------


def predicted_steps(n, k, passes):
    """Reference of 3.7: steps run forward and backward over ``passes``
    passes of n steps with windows of k, by the lectures' algorithm and
    by disjoint windows (closed form; the tests count them)."""
    windows_ = n - k + 1
    return (passes * windows_ * (k + 1), passes * windows_ * k,
            passes * n, passes * n)


def _steps_cases():
    return [Case(f"n = {n}, k = {k}, passes = {p}",
                 {"n": n, "k": k, "passes": p})
            for n, k, p in ((10, 1, 1), (10, 10, 1), (25, 5, 2), (7, 3, 1),
                            (100, 20, 3), (12, 5, 1))]


register(Exercise(
    "3.7", "predict the steps run by stride 1 and by disjoint windows",
    predicted_steps, _steps_cases,
    outputs=("stride1_forward", "stride1_backward", "disjoint_forward",
             "disjoint_backward"), exact=True))
