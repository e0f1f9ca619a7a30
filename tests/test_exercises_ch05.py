"""Chapter 5 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/05-lstm.md`` is graded on every backend: the
solved function must pass every case, and each wrong implementation below
(the forget gate applied to the candidate, tanh missing on c(t), the
output gate reading c(t-1), gates swapped, a sigmoid candidate; the tanh'
of the cell dropped, the gradient from h(t) not added to dc, dc(t-1)
without f, a transposed U; a gate or a peephole miscounted; a mutated
input, a missing return; for the stacked step, the package's gate order,
a layer fed the lower layer's previous state, the bias column dropped,
the columns swapped, the top layer only; for the carousel, the forget
rate 1 - σ in place of σ, the ceiling of ln q / ln f, its floor, the real
number, the bias itself as the gate) must fail.
"""

import math
from pathlib import Path

import pytest

from companion import activations, checks, lstm
from companion import backend as B
from companion.grading.ch05 import parameter_count

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "05-lstm.md"
SOLVED = solved_functions(SOLUTION)
sig = activations.sigmoid


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(5) == ["5.1", "5.2", "5.3", "5.4", "5.5"]
    assert set(SOLVED) == set(checks.chapter_ids(5))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


def test_count_reference_is_the_formula():
    for D, H, K in ((1, 1, 1), (3, 5, 2), (7, 4, 9)):
        plain = 4 * (H * D + H * H + H) + K * H + K
        assert parameter_count(D, H, K, False, False) == plain
        assert parameter_count(D, H, K, True, False) == plain + 3 * H
        coupled = 3 * (H * D + H * H + H) + K * H + K
        assert parameter_count(D, H, K, False, True) == coupled
        assert parameter_count(D, H, K, True, True) == coupled + 2 * H


# -- mutants of 5.1: one LSTM step -----------------------------------------


def _z(p, g, x, h_prev, transpose_U=False):
    U = p[f"U_{g}"] if transpose_U else p[f"U_{g}"].T
    return x @ p[f"W_{g}"].T + h_prev @ U + p[f"b_{g}"]


def _forward(params, x, h_prev, c_prev, swap=None, cand=None,
             forget_on="c_prev", squash_c=True, o_reads="c"):
    """The right step with one switch for each usual mistake."""
    xp = B.namespace(x)
    names = {"f": "f", "i": "i", "o": "o"}
    if swap:
        a, b = swap
        names[a], names[b] = b, a
    f, i, o = (sig(_z(params, names[g], x, h_prev)) for g in "fio")
    g = (cand or xp.tanh)(_z(params, "c", x, h_prev))
    c = f * c_prev + i * g if forget_on == "c_prev" else c_prev + f * g
    read = c if o_reads == "c" else c_prev
    h = o * (xp.tanh(read) if squash_c else read)
    return h, c


def step_forget_on_candidate(params, x, h_prev, c_prev):
    # c(t) = c(t-1) + f ∘ c̃: the forget gate applied to the candidate
    return _forward(params, x, h_prev, c_prev, forget_on="candidate")


def step_no_tanh_on_cell(params, x, h_prev, c_prev):  # h = o ∘ c(t)
    return _forward(params, x, h_prev, c_prev, squash_c=False)


def step_output_reads_c_prev(params, x, h_prev, c_prev):
    return _forward(params, x, h_prev, c_prev, o_reads="c_prev")


def step_input_forget_swapped(params, x, h_prev, c_prev):
    return _forward(params, x, h_prev, c_prev, swap=("f", "i"))


def step_output_forget_swapped(params, x, h_prev, c_prev):
    return _forward(params, x, h_prev, c_prev, swap=("f", "o"))


def step_sigmoid_candidate(params, x, h_prev, c_prev):
    return _forward(params, x, h_prev, c_prev, cand=sig)


def step_transposed_U(params, x, h_prev, c_prev):
    xp = B.namespace(x)
    f, i, o = (sig(_z(params, g, x, h_prev, True)) for g in "fio")
    c = f * c_prev + i * xp.tanh(_z(params, "c", x, h_prev, True))
    return o * xp.tanh(c), c


def step_in_place(params, x, h_prev, c_prev):
    h, c = _forward(params, x, h_prev, c_prev)
    c_prev *= 0.0
    return h, c


def step_h_only(params, x, h_prev, c_prev):
    return _forward(params, x, h_prev, c_prev)[0]


def step_none(params, x, h_prev, c_prev):
    _forward(params, x, h_prev, c_prev)


# -- mutants of 5.2: one LSTM step back ------------------------------------


def _backward(params, dh, dc, x, h_prev, c_prev, tanh_prime=True,
              from_h=True, carry_f=True, transpose_U=False,
              grad_U_with=None, sum_dx=True):
    """The right step back with a switch for each usual mistake."""
    xp = B.namespace(x)
    p = params
    f, i, o = (sig(_z(p, g, x, h_prev)) for g in "fio")
    g_ = xp.tanh(_z(p, "c", x, h_prev))
    tc = xp.tanh(f * c_prev + i * g_)
    through_h = dh * o * ((1.0 - tc * tc) if tanh_prime else 1.0)
    dc = dc + through_h if from_h else dc
    dz = {"f": dc * c_prev * f * (1 - f), "i": dc * g_ * i * (1 - i),
          "o": dh * tc * o * (1 - o), "c": dc * i * (1 - g_ * g_)}
    grads = {}
    state = h_prev if grad_U_with is None else grad_U_with
    for g in "fioc":
        grads[f"W_{g}"] = dz[g].T @ x
        grads[f"U_{g}"] = dz[g].T @ state
        grads[f"b_{g}"] = xp.sum(dz[g], axis=0)
    dx = sum(dz[g] @ p[f"W_{g}"] for g in "fioc") if sum_dx \
        else dz["c"] @ p["W_c"]
    U = {g: p[f"U_{g}"].T if transpose_U else p[f"U_{g}"] for g in "fioc"}
    dh_prev = sum(dz[g] @ U[g] for g in "fioc")
    return dx, dh_prev, dc * f if carry_f else dc, grads


def back_no_tanh_prime_on_cell(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, tanh_prime=False)


def back_dc_from_h_forgotten(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, from_h=False)


def back_dc_prev_without_f(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, carry_f=False)


def back_transposed_U(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, transpose_U=True)


def back_dU_with_c_prev(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, grad_U_with=c_prev)


def back_dx_candidate_only(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev, sum_dx=False)


def back_in_place(params, dh, dc, x, h_prev, c_prev):
    dc += 0.0 * dc + dh
    return _backward(params, dh, dc - dh, x, h_prev, c_prev)


def back_without_grads(params, dh, dc, x, h_prev, c_prev):
    return _backward(params, dh, dc, x, h_prev, c_prev)[:3]


# -- mutants of 5.3: the number of parameters -----------------------------


def count_one_bias_only(D, H, K, peephole, coupled):  # no b_g per gate
    gates = 3 if coupled else 4
    return gates * (H * D + H * H) + H + K * H + K + \
        ((gates - 1) * H if peephole else 0)


def count_coupling_ignored(D, H, K, peephole, coupled):
    return 4 * (H * D + H * H + H) + K * H + K + (3 * H if peephole else 0)


def count_full_peephole_matrices(D, H, K, peephole, coupled):  # H × H
    gates = 3 if coupled else 4
    return gates * (H * D + H * H + H) + K * H + K + \
        ((gates - 1) * H * H if peephole else 0)


def count_three_peepholes_always(D, H, K, peephole, coupled):
    gates = 3 if coupled else 4
    return gates * (H * D + H * H + H) + K * H + K + \
        (3 * H if peephole else 0)


def count_no_output_bias(D, H, K, peephole, coupled):
    return SOLVED["5.3"](D, H, K, peephole, coupled) - K


def count_float(D, H, K, peephole, coupled):
    return float(SOLVED["5.3"](D, H, K, peephole, coupled))


# -- mutants of 5.4: a stacked step in the block form ---------------------


def _stack(blocks, x, hs_prev, cs_prev, order="ifoc", feed="new",
           bias=True, columns="below_first", top_only=False):
    """The right stacked step with one switch for each usual mistake."""
    xp = B.namespace(x)
    below, hs, cs = x, [], []
    for l, (W, h, c) in enumerate(zip(blocks, hs_prev, cs_prev)):
        H, n = h.shape[1], below.shape[1]
        if feed == "old" and l > 0:
            below = hs_prev[l - 1]
        if columns == "below_first":
            a = below @ W[:, :n].T + h @ W[:, n:n + H].T
        else:
            a = h @ W[:, :H].T + below @ W[:, H:H + n].T
        if bias:
            a = a + W[:, -1]
        z = {g: a[:, k * H:(k + 1) * H] for k, g in enumerate(order)}
        c = sig(z["f"]) * c + sig(z["i"]) * xp.tanh(z["c"])
        below = sig(z["o"]) * xp.tanh(c)
        hs.append(below)
        cs.append(c)
    return (hs[-1:], cs[-1:]) if top_only else (hs, cs)


def stack_package_gate_order(blocks, x, hs_prev, cs_prev):  # f, i, o, c
    return _stack(blocks, x, hs_prev, cs_prev, order="fioc")


def stack_fed_previous_state(blocks, x, hs_prev, cs_prev):
    # layer l reads h_{t-1}^{l-1}, not the new h_t^{l-1}
    return _stack(blocks, x, hs_prev, cs_prev, feed="old")


def stack_without_bias(blocks, x, hs_prev, cs_prev):
    return _stack(blocks, x, hs_prev, cs_prev, bias=False)


def stack_columns_swapped(blocks, x, hs_prev, cs_prev):
    return _stack(blocks, x, hs_prev, cs_prev, columns="own_first")


def stack_top_layer_only(blocks, x, hs_prev, cs_prev):
    return _stack(blocks, x, hs_prev, cs_prev, top_only=True)


# -- mutants of 5.5: the carousel's horizon -------------------------------


def _f(b_f):
    return 1.0 / (1.0 + math.exp(-b_f))


def carousel_forget_rate(b_f, q):  # 1 - σ(b_f) taken as what is kept
    return math.floor(math.log(q) / math.log(1.0 - _f(b_f))) + 1


def carousel_ceiling(b_f, q):  # wrong exactly where σ^n = q
    return math.ceil(math.log(q) / math.log(_f(b_f)))


def carousel_floor(b_f, q):
    return math.floor(math.log(q) / math.log(_f(b_f)))


def carousel_real(b_f, q):
    return math.log(q) / math.log(_f(b_f))


def carousel_bias_as_gate(b_f, q):
    return math.floor(math.log(q) / math.log(abs(b_f) / (1 + abs(b_f)))) \
        + 1


MUTANTS = {
    "5.1": [step_forget_on_candidate, step_no_tanh_on_cell,
            step_output_reads_c_prev, step_input_forget_swapped,
            step_output_forget_swapped, step_sigmoid_candidate,
            step_transposed_U, step_in_place, step_h_only, step_none],
    "5.2": [back_no_tanh_prime_on_cell, back_dc_from_h_forgotten,
            back_dc_prev_without_f, back_transposed_U, back_dU_with_c_prev,
            back_dx_candidate_only, back_in_place, back_without_grads],
    "5.3": [count_one_bias_only, count_coupling_ignored,
            count_full_peephole_matrices, count_three_peepholes_always,
            count_no_output_bias, count_float],
    "5.4": [stack_package_gate_order, stack_fed_previous_state,
            stack_without_bias, stack_columns_swapped,
            stack_top_layer_only],
    "5.5": [carousel_forget_rate, carousel_ceiling, carousel_floor,
            carousel_real, carousel_bias_as_gate],
}
# what the first failing case must say, where it is specific
SAYS = {"step_in_place": "modified its input c_prev",
        "step_none": "returned None",
        "step_h_only": "expected a tuple (h, c)",
        "back_in_place": "modified its input dc",
        "back_without_grads": "expected a tuple (dx, dh_prev, dc_prev, "
                              "grads)",
        "back_dc_prev_without_f": "dc_prev: ",
        "count_float": "expected an integer"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(5, MUTANTS, SAYS)


# -- other right answers pass ---------------------------------------------


def step_through_the_package(params, x, h_prev, c_prev):
    """5.1 by stacking the gates, as companion.lstm does."""
    state, _ = lstm.step_forward(params, x, lstm.State(h_prev, c_prev))
    return state.h, state.c


def back_through_5_1(params, dh, dc, x, h_prev, c_prev):
    """5.2 with the right backward written per gate, as tuples."""
    dx, dhp, dcp, grads = _backward(params, dh, dc, x, h_prev, c_prev)
    return [dx, dhp, dcp, grads]


@pytest.mark.parametrize("ex, fn", [
    ("5.1", step_through_the_package), ("5.2", back_through_5_1)],
    ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    # some of them call the package's own solution: the cases pass them,
    # the scan for calls of the reference flags them (test_checks)
    report = checks.grade(ex, fn, scan_source=False)
    assert report.verdict == checks.PASSED, report.text()
