"""Chapter 2 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/02-unrolling.md`` is graded on every backend:
the solved function must pass every case, and each wrong implementation
below (an off-by-one power, a transposed matrix, a dropped term, the wrong
input to a layer, a mutated input, a missing return, ...) must fail.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from companion import backend, checks
from companion.grading.ch02 import graph_size, linear_recurrence

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "02-unrolling.md"
SOLVED = solved_functions(SOLUTION)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(2) == ["2.1", "2.2", "2.3", "2.4", "2.5"]
    assert set(SOLVED) == set(checks.chapter_ids(2))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


# -- the references themselves --------------------------------------------


def test_linear_reference_is_the_closed_form(backend, to_backend, host):
    """The step-by-step reference of 2.1 equals the matrix-power formula
    computed on the host with numpy.linalg.matrix_power."""
    r = np.random.default_rng(5)
    T, B, D, H = 4, 2, 3, 3
    W_e, W_h = r.normal(size=(H, D)), r.normal(0, 0.5, (H, H))
    b_e, x, h0 = r.normal(size=H), r.normal(size=(T, B, D)), \
        r.normal(size=(B, H))
    got = linear_recurrence(
        {"W_e": to_backend(W_e), "W_h": to_backend(W_h),
         "b_e": to_backend(b_e)}, to_backend(x), to_backend(h0))
    assert tuple(got.shape) == (B, H)
    assert got.dtype == backend.float_dtype
    P = np.linalg.matrix_power
    want = h0 @ P(W_h, T).T + sum(
        (x[k - 1] @ W_e.T + b_e) @ P(W_h, T - k).T for k in range(1, T + 1))
    np.testing.assert_allclose(host(got), want, rtol=1e-12)


@pytest.mark.parametrize("T, L", [(1, 1), (2, 1), (1, 3), (5, 4)])
def test_graph_reference_matches_the_formulas(T, L):
    assert graph_size(T, L) == (T * (L + 2) + L, T * (2 * L + 1), T + L)


# -- mutants of 2.1 --------------------------------------------------------


def _powers(W_h, T):
    xp = backend.namespace(W_h)
    out = [xp.eye(W_h.shape[0], dtype=W_h.dtype,
                  device=backend.device(W_h))]
    for _ in range(T + 1):
        out.append(W_h @ out[-1])
    return out


def _linear(params, x, h0, power, h0_term=True, bias=True,
            transpose=False):
    """Σ with the power of term k given by ``power(T, k)``."""
    W_e, W_h, b_e = params["W_e"], params["W_h"], params["b_e"]
    T = x.shape[0]
    Ps = _powers(W_h.T if transpose else W_h, T)
    h = h0 @ Ps[T].T if h0_term else 0.0 * h0
    for k in range(1, T + 1):
        drive = x[k - 1, ...] @ W_e.T + (b_e if bias else 0.0)
        h = h + drive @ Ps[power(T, k)].T
    return h


def lin_off_by_one(params, x, h0):  # W_h^(T-k+1): one product too many
    return _linear(params, x, h0, lambda T, k: T - k + 1)


def lin_power_k(params, x, h0):  # W_h^k instead of W_h^(T-k)
    return _linear(params, x, h0, lambda T, k: k)


def lin_no_h0(params, x, h0):  # the W_h^T h(0) term dropped
    return _linear(params, x, h0, lambda T, k: T - k, h0_term=False)


def lin_transposed(params, x, h0):  # powers of W_h^T
    return _linear(params, x, h0, lambda T, k: T - k, transpose=True)


def lin_bias_once(params, x, h0):  # b_e added once, not at every step
    h = _linear(params, x, h0, lambda T, k: T - k, bias=False)
    return h + params["b_e"]


def lin_in_place(params, x, h0):  # accumulates into the caller's h(0)
    h = _linear(params, x, h0, lambda T, k: T - k)
    h0[...] = h
    return h0


def lin_none(params, x, h0):
    _linear(params, x, h0, lambda T, k: T - k)


# -- mutants of 2.2 --------------------------------------------------------


def _stack(params, x, h0s, layer_input, f="tanh", top=None, zero=False):
    """Layer by layer; ``layer_input(l, x, below)`` is what layer l reads."""
    xp = backend.namespace(x)
    below = x
    layers = h0s if top is None else h0s[:top]
    for l, h in enumerate(layers, start=1):
        h = xp.zeros_like(h) if zero else h
        states = []
        inputs = layer_input(l, x, below)
        for t in range(x.shape[0]):
            z = (inputs[t, ...] @ params[f"W_e_{l}"].T
                 + h @ params[f"W_h_{l}"].T + params[f"b_e_{l}"])
            h = xp.tanh(z) if f == "tanh" else xp.where(z > 0, z, 0.0 * z)
            states.append(h)
        below = xp.stack(states, axis=0)
    return below @ params["W_s"].T + params["b_s"]


def stack_x_every_layer(params, x, h0s):  # X(t) fed to every layer
    return _stack(params, x, h0s, lambda l, x, below: x)


def stack_top_down(params, x, h0s):
    """One step through the layers top-down: layer l reads the state of
    layer l - 1 from the previous step (an off-by-one in time)."""
    xp = backend.namespace(x)
    L, states, outs = len(h0s), list(h0s), []
    for t in range(x.shape[0]):
        for l in range(L, 0, -1):
            below = x[t, ...] if l == 1 else states[l - 2]  # stale
            states[l - 1] = xp.tanh(
                below @ params[f"W_e_{l}"].T
                + states[l - 1] @ params[f"W_h_{l}"].T
                + params[f"b_e_{l}"])
        outs.append(states[-1] @ params["W_s"].T + params["b_s"])
    return xp.stack(outs, axis=0)


def stack_forget_top(params, x, h0s):  # the output reads layer L - 1
    return _stack(params, x, h0s, lambda l, x, below: below,
                  top=max(len(h0s) - 1, 1))


def stack_zero_states(params, x, h0s):  # the given h_l(0) ignored
    return _stack(params, x, h0s, lambda l, x, below: below, zero=True)


def stack_relu(params, x, h0s):  # the wrong hidden activation
    return _stack(params, x, h0s, lambda l, x, below: below, f="relu")


def stack_in_place(params, x, h0s):  # centres the caller's inputs
    xp = backend.namespace(x)
    x[...] = x - xp.mean(x)
    return _stack(params, x, h0s, lambda l, x, below: below)


def stack_none(params, x, h0s):
    _stack(params, x, h0s, lambda l, x, below: below)


# -- mutants of 2.3 --------------------------------------------------------


def size_no_initial(T, L):  # the h_l(0) are not counted as nodes
    return T * (L + 2), T * (2 * L + 1), T + L


def size_no_first_recurrence(T, L):  # no edges h_l(0) -> h_l(1)
    return T * (L + 2) + L, T * (2 * L + 1) - L, T + L


def size_no_outputs(T, L):  # the W_s edges forgotten
    return T * (L + 2) + L, 2 * T * L, T + L


def size_path_off_by_one(T, L):  # the edge into o(T) not counted
    return T * (L + 2) + L, T * (2 * L + 1), T + L - 1


def size_path_product(T, L):  # through every state of the grid
    return T * (L + 2) + L, T * (2 * L + 1), T * L + 1


def size_floats(T, L):
    return float(T * (L + 2) + L), float(T * (2 * L + 1)), float(T + L)


def size_none(T, L):
    T * (L + 2) + L


# -- mutants of 2.4: a power from the eigen-decomposition --------------------


def eig_inverse_on_the_left(V, lam, t):  # V^-1 Λ^t V
    return backend.namespace(V).linalg.inv(V) @ (V * lam ** t)


def eig_transpose_for_inverse(V, lam, t):  # V Λ^t V^T: only if V is orthogonal
    return (V * lam ** t) @ V.T


def eig_lam_times_t(V, lam, t):  # Λ t, not Λ^t
    return (V * (lam * t)) @ backend.namespace(V).linalg.inv(V)


def eig_rows_scaled(V, lam, t):  # Λ^t V V^-1 ... rows of V scaled
    return (lam[:, None] ** t * V) @ backend.namespace(V).linalg.inv(V)


def eig_power_off_by_one(V, lam, t):  # Λ^(t+1)
    return (V * lam ** (t + 1)) @ backend.namespace(V).linalg.inv(V)


# -- mutants of 2.5: the transient peak --------------------------------------


def _entry(a, c, d, t):
    return c * (a ** t - d ** t) / (a - d)


def _tau(a, d):
    return math.log(math.log(d) / math.log(a)) / math.log(a / d)


def peak_floor_only(a, c, d):  # ⌊τ⌋ without comparing ⌈τ⌉
    t = max(1, math.floor(_tau(a, d)))
    return t, _entry(a, c, d, t)


def peak_rounded(a, c, d):  # the nearest integer is not always the best
    t = max(1, round(_tau(a, d)))
    return t, _entry(a, c, d, t)


def peak_at_tau(a, c, d):  # the real maximiser, not an integer step
    tau = _tau(a, d)
    return tau, _entry(a, c, d, tau)


def peak_logs_swapped(a, c, d):  # ln(ln a / ln d): a negative τ
    tau = math.log(math.log(a) / math.log(d)) / math.log(a / d)
    t = max(1, math.ceil(tau))
    return t, _entry(a, c, d, t)


def peak_plus_sign(a, c, d):  # a^t + d^t
    t = max(1, math.floor(_tau(a, d)))
    cands = (t, t + 1)
    best = max(cands, key=lambda s: c * (a ** s + d ** s) / (a - d))
    return best, c * (a ** best + d ** best) / (a - d)


MUTANTS = {
    "2.1": [lin_off_by_one, lin_power_k, lin_no_h0, lin_transposed,
            lin_bias_once, lin_in_place, lin_none],
    "2.2": [stack_x_every_layer, stack_top_down, stack_forget_top,
            stack_zero_states, stack_relu, stack_in_place, stack_none],
    "2.3": [size_no_initial, size_no_first_recurrence, size_no_outputs,
            size_path_off_by_one, size_path_product, size_floats,
            size_none],
    "2.4": [eig_inverse_on_the_left, eig_transpose_for_inverse,
            eig_lam_times_t, eig_rows_scaled, eig_power_off_by_one],
    "2.5": [peak_floor_only, peak_rounded, peak_at_tau, peak_logs_swapped,
            peak_plus_sign],
}
# what the first failing case must say, where it is specific
SAYS = {"lin_in_place": "modified its input h0",
        "stack_in_place": "modified its input x",
        "lin_none": "returned None", "stack_none": "returned None",
        "size_none": "returned None",
        "size_floats": "expected an integer",
        "size_no_initial": "nodes: got",
        "size_no_outputs": "edges: got",
        "size_path_off_by_one": "path: got"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(2, MUTANTS, SAYS)


def test_feeding_x_to_every_layer_fails_even_when_shapes_allow(backend):
    # with D = H in every layer the mutant runs, and its values are wrong
    report = checks.grade("2.2", stack_x_every_layer)
    verdicts = dict(report.cases)
    key = "L = 3, T = 5, B = 3, D = H = 3 in every layer"
    assert verdicts[key].startswith("max |error|"), report.text()
    assert verdicts["L = 1, T = 3, B = 2, D = 2, H = 3, K = 2"] == \
        checks.PASSED
