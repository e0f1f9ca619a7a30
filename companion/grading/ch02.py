"""Exercises of chapter 2 (unrolling in time): specs for ``companion.checks``.

The equations are those of ``solutions/02-unrolling.md``:

    2.1  the linear recurrence h(t) = W_e X(t) + W_h h(t-1) + b_e unrolled:
         h(T) = W_h^T h(0) + Σ_{k=1..T} W_h^{T-k} (W_e X(k) + b_e)
    2.2  a stack of L layers, h_0(t) = X(t),
         h_l(t) = tanh(W_e_l h_{l-1}(t) + W_h_l h_l(t-1) + b_e_l),
         o(t) = W_s h_L(t) + b_s
    2.3  the unrolled graph of L layers over T steps: T (L + 2) + L nodes,
         T (2L + 1) edges, a shortest path X(1) -> o(T) of T + L edges
    2.4  W^t = V Λ^t V^-1 from the eigenvectors V and eigenvalues λ
    2.5  the integer t maximising c (a^t - d^t) / (a - d), the (1, 2)
         entry of [[a, c], [0, d]]^t, and that entry

``rnn`` allows only tanh, relu and sigmoid as f_h, so the reference of 2.1
runs the linear recurrence (f_h = identity) itself, step by step, below.
The reference of 2.2 is ``rnn.stack_forward``; that of 2.3 counts the
graph of ``viz.stacked_graph`` and searches it breadth-first. That of 2.4
is ``xp.linalg.matrix_power``; that of 2.5 searches t by brute force.
"""

from __future__ import annotations

import numpy as np

from .. import rnn, viz
from ..backend import namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def linear_recurrence(params, x, h0):
    """h(T) of the linear recurrence h(t) = W_e X(t) + W_h h(t-1) + b_e.

    f_h = identity, which ``rnn.step_forward`` does not offer: the loop
    over time is written here. x (T, B, D), h0 (B, H); returns (B, H).
    """
    W_e, W_h, b_e = params["W_e"], params["W_h"], params["b_e"]
    h = h0
    for t in range(x.shape[0]):
        # h(t) = W_e X(t) + W_h h(t-1) + b_e, batched: the transpose
        h = x[t, ...] @ W_e.T + h @ W_h.T + b_e
    return h


def _linear_case(label, seed, T, B, D, H, bias=True):
    r = _rng(seed)
    params = {"W_e": r.normal(0.0, 1.0, (H, D)),
              # scaled so that W_h^T neither explodes nor vanishes
              "W_h": r.normal(0.0, 0.9 / np.sqrt(H), (H, H)),
              "b_e": r.normal(0.0, 0.5, H) if bias else np.zeros(H)}
    return Case(label, {"params": params,
                        "x": r.normal(0.0, 1.0, (T, B, D)),
                        "h0": r.normal(0.0, 1.0, (B, H))})


def _linear_cases():
    return [
        _linear_case("T = 1, B = 2, D = 2, H = 3", 20, 1, 2, 2, 3),
        _linear_case("T = 2, B = 1, D = 1, H = 1", 21, 2, 1, 1, 1),
        _linear_case("T = 4, B = 3, D = 2, H = 3", 22, 4, 3, 2, 3),
        _linear_case("T = 6, B = 2, D = 3, H = 4, b_e = 0", 23, 6, 2, 3,
                     4, bias=False),
        _linear_case("T = 5, B = 1, D = 4, H = 2", 24, 5, 1, 4, 2),
    ]


register(Exercise(
    "2.1", "the linear recurrence unrolled", linear_recurrence,
    _linear_cases, rtol=1e-9, atol=1e-10))


def _stack_output(params, x, h0s):
    o, _, _ = rnn.stack_forward(params, x, h0s, "tanh", "identity")
    return o


def _stack_case(label, seed, T, B, D, sizes, K):
    r = _rng(seed)
    params, fan_in = {}, D
    for index, H in enumerate(sizes, start=1):
        params[f"W_e_{index}"] = r.normal(0.0, 1.0 / np.sqrt(fan_in),
                                          (H, fan_in))
        params[f"W_h_{index}"] = r.normal(0.0, 1.0 / np.sqrt(H), (H, H))
        params[f"b_e_{index}"] = r.normal(0.0, 0.3, H)
        fan_in = H
    params["W_s"] = r.normal(0.0, 1.0, (K, fan_in))
    params["b_s"] = r.normal(0.0, 0.3, K)
    h0s = [r.normal(0.0, 0.5, (B, H)) for H in sizes]
    return Case(label, {"params": params,
                        "x": r.normal(0.0, 1.0, (T, B, D)), "h0s": h0s})


def _stack_cases():
    return [
        _stack_case("L = 1, T = 3, B = 2, D = 2, H = 3, K = 2", 30, 3, 2, 2,
                    [3], 2),
        _stack_case("L = 2, T = 1, B = 2, sizes 3, 2", 31, 1, 2, 2, [3, 2],
                    2),
        _stack_case("L = 3, T = 4, B = 1, D = 3, sizes 4, 1, 3", 32, 4, 1,
                    3, [4, 1, 3], 2),
        _stack_case("L = 3, T = 5, B = 3, D = H = 3 in every layer", 33, 5,
                    3, 3, [3, 3, 3], 3),
        _stack_case("L = 2, T = 6, B = 2, D = 2, sizes 5, 4, K = 1", 34, 6,
                    2, 2, [5, 4], 1),
    ]


register(Exercise(
    "2.2", "a stacked (deep) RNN", _stack_output, _stack_cases))


def graph_size(T: int, L: int) -> tuple[int, int, int]:
    """(nodes, edges, edges of a shortest path X(1) -> o(T)) of the graph
    of L stacked layers unrolled over T steps, h_l(0) nodes included."""
    graph = viz.stacked_graph(T, L)
    path = viz.shortest_path(graph, "X(1)", f"o({T})")
    return len(graph.nodes), len(graph.edges), len(path) - 1


def _graph_cases():
    return [Case(f"T = {T}, L = {L}", {"T": T, "L": L})
            for T, L in ((1, 1), (3, 1), (1, 4), (4, 3), (20, 2), (7, 6))]


register(Exercise(
    "2.3", "the size of the unrolled graph", graph_size, _graph_cases,
    outputs=("nodes", "edges", "path"), exact=True))


# -- 2.4 a power from the eigen-decomposition ------------------------------


def power_from_eigs(V, lam, t):
    """Reference of 2.4: W^t for W = V diag(lam) V^-1, by repeated
    products (xp.linalg.matrix_power), not by the formula under test."""
    xp = namespace(V)
    W = (V * lam) @ xp.linalg.inv(V)
    return xp.linalg.matrix_power(W, t)


def _eig_case(label, W, t):
    lam, V = np.linalg.eig(np.asarray(W, dtype=float))
    assert np.all(np.isreal(lam)), "the cases have real eigenvalues"
    return Case(label, {"V": V.real, "lam": lam.real, "t": t})


def _eig_cases():
    r = _rng(40)
    A = r.normal(size=(4, 4))
    return [
        _eig_case("H = 1, t = 3", [[0.7]], 3),
        _eig_case("H = 2, non-normal, t = 6", [[0.9, 5.0], [0.0, 0.8]], 6),
        _eig_case("H = 4, symmetric, t = 5", (A + A.T) / 4, 5),
        _eig_case("H = 3, triangular, t = 0 (the identity)",
                  np.triu(r.normal(size=(3, 3))) + np.diag([0.5, 1, 2]), 0),
        _eig_case("H = 3, triangular, t = 1 (W itself)",
                  np.triu(r.normal(size=(3, 3))) + np.diag([-1, 0.2, 1]), 1),
        _eig_case("H = 3, a negative eigenvalue, t = 7",
                  np.triu(r.normal(size=(3, 3))) + np.diag([-0.9, 0.3, 1.1]),
                  7),
    ]


register(Exercise(
    "2.4", "a matrix power from the eigen-decomposition", power_from_eigs,
    _eig_cases, rtol=1e-9, atol=1e-12))


# -- 2.5 the transient peak of a non-normal matrix -------------------------


def transient_peak(a, c, d):
    """Reference of 2.5, by search: the integer t >= 0 that maximises
    the (1, 2) entry of [[a, c], [0, d]]^t, and that entry."""
    W = np.array([[a, c], [0.0, d]])
    P, best = np.eye(2), (0, 0.0)
    for t in range(1, 10_000):
        P = P @ W
        if P[0, 1] > best[1]:
            best = (t, float(P[0, 1]))
    return best


def _peak_cases():
    return [Case(f"a = {a}, c = {c}, d = {d}", {"a": a, "c": c, "d": d})
            for a, c, d in ((0.9, 5.0, 0.8), (0.5, 1.0, 0.1),
                            (0.99, 1.0, 0.9), (0.95, 2.0, 0.5),
                            (0.6, 3.0, 0.59), (0.3, 1.0, 0.2),
                            (0.8, 0.5, 0.7), (0.52, 1.0, 0.49))]


register(Exercise(
    "2.5", "the transient peak of a non-normal matrix", transient_peak,
    _peak_cases, outputs=("t_star", "value"), rtol=1e-9))
