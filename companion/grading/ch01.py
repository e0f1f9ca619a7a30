"""Exercises of chapter 1 (recurrent networks): specs for ``checks``.

Each spec names the reference in the package (``companion.rnn``,
``companion.losses``) and the cases it is checked on: seeded random
weights with non-zero biases and a non-zero h(0), the lectures' sizes
D = 2, H = 3, K = 2, a square W_e (H = D, where a transposed matrix
raises nothing), and the edge shapes T = 1, B = 1, H = 1. The equations
are those of the notebook ``solutions/01-recurrent-networks.md``:

    1.1  h(t) = tanh(W_e X(t) + W_h h(t-1) + b_e)
    1.2  RNNRUN: h(t) as in 1.1, o(t) = softmax(W_s h(t) + b_s),
         t = 1..T; returns o (T, B, K) and h(T)
    1.3  Σ_l (H_l H_{l-1} + H_l H_l + H_l) + K H_L + K parameters in a
         stack of L layers of sizes H_1..H_L, with H_0 = D
    1.4  many-to-one: E = -Σ_b log softmax(z_s(T))_{y_b},
         dE/dz_s(t) = 0 for t < T and o(T) - y at t = T
    1.5  a linear network fed X(1) then zeros: o(t) = W_s W_h^(t-1) W_e X(1)
         + b_s (reference: the recurrence run step by step)
    1.6  the multiply-adds of RNNRUN: T B (D H + H H + H K) (reference: the
         shapes of the three products, summed step by step)
"""

from __future__ import annotations

import numpy as np

from .. import losses, rnn
from ..backend import device, namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _elman_weights(r, D, H, K=None, scale=0.7):
    """Host weights in math shape, biases non-zero (K=None: no output)."""
    weights = {"W_e": r.normal(0.0, scale, (H, D)),
               "W_h": r.normal(0.0, scale, (H, H)),
               "b_e": r.normal(0.0, 0.5, H)}
    if K is not None:
        weights["W_s"] = r.normal(0.0, scale, (K, H))
        weights["b_s"] = r.normal(0.0, 0.5, K)
    return weights


# -- 1.1 one Elman step ----------------------------------------------------


def elman_step(x_t, h_prev, W_e, W_h, b_e):
    """h(t) = tanh(W_e X(t) + W_h h(t-1) + b_e) by ``rnn.step_forward``.

    Args:
        x_t: X(t), (B, D); h_prev: h(t-1), (B, H).
        W_e: (H, D); W_h: (H, H); b_e: (H,).

    Returns:
        h(t), (B, H).
    """
    params = {"W_e": W_e, "W_h": W_h, "b_e": b_e}
    state, _ = rnn.step_forward(params, x_t, rnn.State(h_prev), "tanh")
    return state.h


def _step_case(label, seed, B, D, H, scale=0.7, zero_state=False):
    r = _rng(seed)
    w = _elman_weights(r, D, H, scale=scale)
    h_prev = (np.zeros((B, H)) if zero_state
              else np.tanh(r.normal(0.0, 1.0, (B, H))))
    return Case(label, {"x_t": r.normal(0.0, 1.0, (B, D)),
                        "h_prev": h_prev, **w})


def _step_cases():
    return [
        _step_case("the lectures' sizes D = 2, H = 3, B = 1", 101, 1, 2, 3),
        _step_case("B = 4, D = 5, H = 3", 102, 4, 5, 3),
        _step_case("H = 1, D = 2, B = 2", 103, 2, 2, 1),
        _step_case("square W_e: D = H = 4, B = 3", 104, 3, 4, 4),
        _step_case("large weights (tanh saturates), B = 2", 105, 2, 3, 2,
                   scale=4.0),
        _step_case("h(t-1) = 0, B = 2, D = 3, H = 2", 106, 2, 3, 2,
                   zero_state=True),
    ]


register(Exercise(
    "1.1", "one step of an Elman network", elman_step, _step_cases))


# -- 1.2 RNNRUN over a sequence --------------------------------------------


def rnn_forward(params, x, h0):
    """RNNRUN with f_h = tanh and f_s = softmax, by ``rnn.forward``.

    Args:
        params: W_e (H, D), W_h (H, H), b_e (H,), W_s (K, H), b_s (K,).
        x: inputs (T, B, D); h0: h(0), (B, H).

    Returns:
        (o (T, B, K), h(T) (B, H)).
    """
    o, state, _ = rnn.forward(params, x, h0, "tanh", "softmax")
    return o, state.h


def _forward_case(label, seed, T, B, D, H, K, zero_state=False,
                  huge=False):
    r = _rng(seed)
    h0 = (np.zeros((B, H)) if zero_state
          else np.tanh(r.normal(0.0, 1.0, (B, H))))
    params = _elman_weights(r, D, H, K)
    if huge:
        _huge_logits(params, K)
    return Case(label, {"params": params,
                        "x": r.normal(0.0, 1.0, (T, B, D)), "h0": h0})


def _huge_logits(params, K):
    """Output logits z_s near ±1000 (exp overflows above 709)."""
    params["W_s"] = params["W_s"] * 50.0
    params["b_s"] = np.linspace(1000.0, -1000.0, K)


def _forward_cases():
    return [
        _forward_case("the lectures' sizes: T = 8, B = 2, D = 2, H = 3, "
                      "K = 2", 201, 8, 2, 2, 3, 2),
        _forward_case("T = 1, B = 2, D = 3, H = 2, K = 2", 202,
                      1, 2, 3, 2, 2),
        _forward_case("B = 1, T = 6, D = 2, H = 4, K = 3", 203,
                      6, 1, 2, 4, 3),
        _forward_case("H = 1, T = 4, B = 3, D = 2, K = 2", 204,
                      4, 3, 2, 1, 2),
        _forward_case("h(0) = 0, T = 5, B = 3, D = 4, H = 4, K = 5", 205,
                      5, 3, 4, 4, 5, zero_state=True),
        _forward_case("logits near ±1000, T = 3, B = 2, D = 2, H = 3, "
                      "K = 3", 206, 3, 2, 2, 3, 3, huge=True),
    ]


register(Exercise(
    "1.2", "RNNRUN: the outputs of a whole sequence", rnn_forward,
    _forward_cases, outputs=("o", "h_T")))


# -- 1.3 the parameters of a stacked RNN -----------------------------------


def stack_parameter_count(D: int, sizes, K: int) -> int:
    """Entries of W_e_l (H_l, H_{l-1}), W_h_l (H_l, H_l), b_e_l (H_l,)
    for l = 1..L (H_0 = D), then W_s (K, H_L) and b_s (K,): the arrays
    of ``rnn.init_stack(D, sizes, K, ...)``."""
    count, fan_in = 0, int(D)
    for H in sizes:
        count += H * fan_in + H * H + H
        fan_in = int(H)
    return count + K * fan_in + K


def _count_cases():
    return [Case(f"D = {d}, sizes = {list(s)}, K = {k}",
                 {"D": d, "sizes": list(s), "K": k})
            for d, s, k in ((1, [1], 1), (2, [3], 2), (2, [3, 4], 2),
                            (3, [1, 1], 1), (10, [20, 30, 40], 5),
                            (300, [256, 256], 10000))]


register(Exercise(
    "1.3", "the parameters of a stacked RNN", stack_parameter_count,
    _count_cases, exact=True))


# -- 1.4 a many-to-one readout ---------------------------------------------


def many_to_one_loss(params, x, h0, y):
    """Cross-entropy of o(T) = softmax(z_s(T)) only, and dE/dz_s.

    The loss of ``losses.softmax_cross_entropy`` with a mask that keeps
    the last step: E = -Σ_b log o_b(T)_{y_b}.

    Args:
        params: an Elman layer with W_s (K, H), b_s (K,).
        x: inputs (T, B, D); h0: h(0), (B, H).
        y: the class of each sequence, integers in [0, K), (B,).

    Returns:
        (E, dz_s (T, B, K)), dz_s zero before the last step.
    """
    xp = namespace(x)
    z_s, _, _ = rnn.forward(params, x, h0, "tanh", "identity")
    T, B = x.shape[0], x.shape[1]
    last = xp.astype(xp.arange(T, device=device(x)) == T - 1, x.dtype)
    mask = xp.broadcast_to(last[:, None], (T, B))   # m(t) = [t = T]
    labels = xp.broadcast_to(y[None, :], (T, B))
    result = losses.softmax_cross_entropy(z_s, labels, mask=mask)
    return result.loss, result.grad


def _readout_case(label, seed, T, B, D, H, K, classes=None, huge=False):
    r = _rng(seed)
    y = (r.integers(0, K, B) if classes is None
         else np.asarray(classes, dtype=np.int64))
    params = _elman_weights(r, D, H, K)
    if huge:
        _huge_logits(params, K)
    return Case(label, {"params": params,
                        "x": r.normal(0.0, 1.0, (T, B, D)),
                        "h0": np.tanh(r.normal(0.0, 1.0, (B, H))),
                        "y": y})


def _readout_cases():
    return [
        _readout_case("T = 6, B = 4, D = 1, H = 5, K = 2", 301,
                      6, 4, 1, 5, 2, classes=[0, 1, 1, 0]),
        _readout_case("T = 1, B = 3, D = 2, H = 3, K = 3", 302,
                      1, 3, 2, 3, 3),
        _readout_case("B = 1, T = 5, D = 2, H = 4, K = 2", 303,
                      5, 1, 2, 4, 2),
        _readout_case("H = 1, T = 4, B = 3, D = 2, K = 3", 304,
                      4, 3, 2, 1, 3),
        _readout_case("the lectures' sizes: T = 7, B = 2, D = 2, H = 3, "
                      "K = 2", 305, 7, 2, 2, 3, 2, classes=[1, 1]),
        _readout_case("logits near ±1000, T = 3, B = 3, D = 2, H = 3, "
                      "K = 3", 306, 3, 3, 2, 3, 3, classes=[0, 1, 0],
                      huge=True),
    ]


register(Exercise(
    "1.4", "a many-to-one readout", many_to_one_loss, _readout_cases,
    outputs=("E", "dz_s")))


# -- 1.5 one-to-many, derived ----------------------------------------------


def one_to_many_linear(W_e, W_h, W_s, b_s, x1, T):
    """Reference of 1.5: the linear recurrence, run step by step on the
    sequence X(1), 0, ..., 0 (not the closed form)."""
    xp = namespace(x1)
    h = xp.zeros((x1.shape[0], W_h.shape[0]), dtype=x1.dtype,
                 device=device(x1))
    outputs = []
    for t in range(T):
        x_t = x1 if t == 0 else 0.0 * x1
        h = x_t @ W_e.T + h @ W_h.T    # f_h = identity, b_e = 0
        outputs.append(h @ W_s.T + b_s)
    return xp.stack(outputs)


def _linear_case(label, seed, B, D, H, K, T, radius):
    r = _rng(seed)
    W_h = r.normal(0.0, 1.0, (H, H))
    W_h *= radius / max(abs(np.linalg.eigvals(W_h)))
    return Case(label, {"W_e": r.normal(0.0, 1.0, (H, D)), "W_h": W_h,
                        "W_s": r.normal(0.0, 1.0, (K, H)),
                        "b_s": r.normal(0.0, 0.5, K),
                        "x1": r.normal(0.0, 1.0, (B, D)), "T": T})


register(Exercise(
    "1.5", "a linear one-to-many network in closed form",
    one_to_many_linear, lambda: [
        _linear_case("B = D = H = K = 1, T = 6", 150, 1, 1, 1, 1, 6, 0.5),
        _linear_case("the lectures' sizes D = 2, H = 3, K = 2", 151, 2, 2,
                     3, 2, 8, 0.5),
        _linear_case("T = 1: no power of W_h", 152, 3, 2, 4, 3, 1, 0.9),
        _linear_case("square, D = H = 4, radius 1.1 (growing)", 153, 2, 4,
                     4, 2, 12, 1.1),
        _linear_case("B = 1, H = 5, K = 1, T = 20", 154, 1, 3, 5, 1, 20,
                     0.8)]))


# -- 1.6 the cost of RNNRUN --------------------------------------------


def rnnrun_multiply_adds(T, B, D, H, K):
    """Reference of 1.6: m n p for each (m, n) @ (n, p) product of the
    loop (x_t @ W_e.T, h @ W_h.T, h @ W_s.T), added step by step."""
    products = ((B, D, H), (B, H, H), (B, H, K))
    return sum(m * n * p for _ in range(T) for m, n, p in products)


register(Exercise(
    "1.6", "the multiply-adds of RNNRUN", rnnrun_multiply_adds,
    lambda: [Case(f"T = {T}, B = {B}, D = {D}, H = {H}, K = {K}",
                  {"T": T, "B": B, "D": D, "H": H, "K": K})
             for T, B, D, H, K in ((1, 1, 1, 1, 1), (5, 3, 2, 3, 2),
                                   (100, 32, 10, 64, 10),
                                   (7, 1, 300, 128, 5000),
                                   (50, 16, 4, 4, 4), (3, 2, 6, 1, 9))],
    exact=True))
