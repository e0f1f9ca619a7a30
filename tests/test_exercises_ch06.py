"""Chapter 6 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/06-gru.md`` is graded on every backend: the
solved function must pass every case, and each wrong implementation below
(the reset gate after the product, z weighting the old state, the reset
gate applied to the input, a missing tanh, a transposed U_h, a dropped
path into dh(t-1), the sign of dz flipped, PyTorch's extra bias
forgotten, four gates counted as in an LSTM, a mutated input, a missing
return, the update gate not negated, the reset gate negated too, b_hn set
to b_h, b_h left in, 1/z or ln 2 / z for the half-life, ...) must fail.
The mapping of 6.4 is also checked where it matters: the lectures' GRU
and its image in PyTorch's convention compute the same states.
"""

import math
from pathlib import Path

import pytest

from companion import backend as B
from companion import checks, gru
from companion.activations import sigmoid

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "06-gru.md"
SOLVED = solved_functions(SOLUTION)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(6) == ["6.1", "6.2", "6.3", "6.4", "6.5"]
    assert set(SOLVED) == set(checks.chapter_ids(6))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


# -- mutants of 6.1: one GRU step -----------------------------------------


def _step(p, x, h_prev, reset="before", update="candidate", act="tanh",
          U_h_T=False):
    """The lectures' step, with any one piece replaced by a wrong one."""
    xp = B.namespace(x)
    z = sigmoid(x @ p["W_z"].T + h_prev @ p["U_z"].T + p["b_z"])
    r = sigmoid(x @ p["W_r"].T + h_prev @ p["U_r"].T + p["b_r"])
    U_h = p["U_h"] if U_h_T else p["U_h"].T
    if reset == "before":
        a = x @ p["W_h"].T + (r * h_prev) @ U_h + p["b_h"]
    elif reset == "after":                  # PyTorch's placement
        a = x @ p["W_h"].T + r * (h_prev @ U_h) + p["b_h"]
    elif reset == "input":                  # r applied to X(t)
        a = (x @ p["W_h"].T) * r + h_prev @ U_h + p["b_h"]
    else:                                   # no reset gate at all
        a = x @ p["W_h"].T + h_prev @ U_h + p["b_h"]
    c = {"tanh": xp.tanh, "none": lambda v: v, "sigmoid": sigmoid}[act](a)
    if update == "candidate":
        return (1.0 - z) * h_prev + z * c
    if update == "old":                     # z weights h(t-1)
        return z * h_prev + (1.0 - z) * c
    return h_prev + z * c                   # (1 - z) forgotten


def step_reset_after_product(params, x, h_prev):
    return _step(params, x, h_prev, reset="after")


def step_z_weights_old_state(params, x, h_prev):
    return _step(params, x, h_prev, update="old")


def step_reset_on_input(params, x, h_prev):
    return _step(params, x, h_prev, reset="input")


def step_no_reset(params, x, h_prev):
    return _step(params, x, h_prev, reset="none")


def step_missing_tanh(params, x, h_prev):
    return _step(params, x, h_prev, act="none")


def step_sigmoid_candidate(params, x, h_prev):
    return _step(params, x, h_prev, act="sigmoid")


def step_U_h_transposed(params, x, h_prev):
    return _step(params, x, h_prev, U_h_T=True)


def step_no_one_minus_z(params, x, h_prev):
    return _step(params, x, h_prev, update="leak")


def step_in_place(params, x, h_prev):
    h = _step(params, x, h_prev)
    h_prev *= 0.0
    return h


def step_none(params, x, h_prev):
    _step(params, x, h_prev)


# -- mutants of 6.2: one GRU step backward --------------------------------


def _backward(p, dh, x, h_prev, drop=None, dz_sign=1.0, U_h_with="s",
              mean=False):
    """The right step backward, with any one term dropped or changed."""
    xp = B.namespace(dh)
    z = sigmoid(x @ p["W_z"].T + h_prev @ p["U_z"].T + p["b_z"])
    r = sigmoid(x @ p["W_r"].T + h_prev @ p["U_r"].T + p["b_r"])
    s = r * h_prev
    c = xp.tanh(x @ p["W_h"].T + s @ p["U_h"].T + p["b_h"])
    da_h = dh * z * (1.0 - c * c)
    dz = dz_sign * dh * (c - h_prev)
    ds = da_h @ p["U_h"]
    da_r = ds * h_prev * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    grads = {"W_h": da_h.T @ x,
             "U_h": da_h.T @ (s if U_h_with == "s" else h_prev),
             "b_h": xp.sum(da_h, axis=0)}
    for name, da in (("z", da_z), ("r", da_r)):
        grads[f"W_{name}"] = da.T @ x
        grads[f"U_{name}"] = da.T @ h_prev
        grads[f"b_{name}"] = xp.sum(da, axis=0)
    terms = {"direct": dh * (1.0 - z), "reset": ds * r,
             "z": da_z @ p["U_z"], "r": da_r @ p["U_r"]}
    dh_prev = sum(v for k, v in terms.items() if k != drop)
    dx = da_z @ p["W_z"] + da_r @ p["W_r"] + \
        (0.0 if drop == "dx_h" else da_h @ p["W_h"])
    if mean:
        grads = {k: v / dh.shape[0] for k, v in grads.items()}
    return dx, dh_prev, grads


def back_no_direct_path(params, dh, x, h_prev):  # dh ∘ (1 - z) dropped
    return _backward(params, dh, x, h_prev, drop="direct")


def back_no_reset_path(params, dh, x, h_prev):  # ds ∘ r dropped
    return _backward(params, dh, x, h_prev, drop="reset")


def back_no_gate_paths(params, dh, x, h_prev):  # U_z^T da_z dropped
    return _backward(params, dh, x, h_prev, drop="z")


def back_dz_sign_flipped(params, dh, x, h_prev):  # h(t-1) - h~
    return _backward(params, dh, x, h_prev, dz_sign=-1.0)


def back_dU_h_with_h_prev(params, dh, x, h_prev):  # h(t-1), not r ∘ h
    return _backward(params, dh, x, h_prev, U_h_with="h")


def back_dx_without_candidate(params, dh, x, h_prev):
    return _backward(params, dh, x, h_prev, drop="dx_h")


def back_mean_over_batch(params, dh, x, h_prev):
    return _backward(params, dh, x, h_prev, mean=True)


def back_in_place(params, dh, x, h_prev):
    out = _backward(params, dh, x, h_prev)
    dh *= 2.0
    return out


def back_grads_only(params, dh, x, h_prev):
    return _backward(params, dh, x, h_prev)[2]


# -- mutants of 6.3: counting parameters ----------------------------------


def count_without_b_hn(D, H, K, convention):  # the extra bias forgotten
    return 3 * (H * D + H * H + H) + K * H + K


def count_four_gates(D, H, K, convention):  # an LSTM's count
    return 4 * (H * D + H * H + H) + K * H + K + \
        (H if convention == "pytorch" else 0)


def count_no_output_layer(D, H, K, convention):
    return 3 * (H * D + H * H + H) + (H if convention == "pytorch" else 0)


def count_U_as_H_by_D(D, H, K, convention):  # recurrent matrix (H, D)
    return 3 * (2 * H * D + H) + K * H + K + \
        (H if convention == "pytorch" else 0)


def count_both_biases_everywhere(D, H, K, convention):  # 2 biases/gate
    return 3 * (H * D + H * H + 2 * H) + K * H + K


def count_float(D, H, K, convention):
    return float(SOLVED["6.3"](D, H, K, convention))


# -- mutants of 6.4: the lectures' GRU in PyTorch's convention -------------


def _to_pytorch(params, negate=("W_z", "U_z", "b_z"), b_hn="zero",
                keep_b_h=False):
    new = {k: -v if k in negate else v for k, v in params.items()
           if k != "b_h" or keep_b_h}
    new["b_in"] = params["b_h"]
    new["b_hn"] = params["b_h"] if b_hn == "b_h" else 0.0 * params["b_h"]
    return new


def convention_not_negated(params):
    return _to_pytorch(params, negate=())


def convention_bias_not_negated(params):  # only the weights of z
    return _to_pytorch(params, negate=("W_z", "U_z"))


def convention_reset_negated_too(params):
    return _to_pytorch(params, negate=("W_z", "U_z", "b_z", "W_r", "U_r",
                                       "b_r"))


def convention_b_hn_is_b_h(params):
    return _to_pytorch(params, b_hn="b_h")


def convention_b_h_kept(params):
    return _to_pytorch(params, keep_b_h=True)


def convention_in_place(params):
    for key in ("W_z", "U_z", "b_z"):
        params[key] = -params[key]
    params["b_in"], params["b_hn"] = params["b_h"], 0.0 * params["b_h"]
    del params["b_h"]
    return params


# -- mutants of 6.5: the half-life ----------------------------------------


def half_life_rule_of_thumb(z):
    return 1.0 / z


def half_life_ln2_over_z(z):  # the small-z limit, taken as exact
    return math.log(2.0) / z


def half_life_log_of_z(z):  # (z)^t = 1/2: the gate taken as what stays
    return math.log(0.5) / math.log(z)


def half_life_rounded_up(z):
    return float(math.ceil(math.log(0.5) / math.log(1.0 - z)))


MUTANTS = {
    "6.1": [step_reset_after_product, step_z_weights_old_state,
            step_reset_on_input, step_no_reset, step_missing_tanh,
            step_sigmoid_candidate, step_U_h_transposed,
            step_no_one_minus_z, step_in_place, step_none],
    "6.2": [back_no_direct_path, back_no_reset_path, back_no_gate_paths,
            back_dz_sign_flipped, back_dU_h_with_h_prev,
            back_dx_without_candidate, back_mean_over_batch, back_in_place,
            back_grads_only],
    "6.3": [count_without_b_hn, count_four_gates, count_no_output_layer,
            count_U_as_H_by_D, count_both_biases_everywhere, count_float],
    "6.4": [convention_not_negated, convention_bias_not_negated,
            convention_reset_negated_too, convention_b_hn_is_b_h,
            convention_b_h_kept, convention_in_place],
    "6.5": [half_life_rule_of_thumb, half_life_ln2_over_z,
            half_life_log_of_z, half_life_rounded_up],
}
# what the first failing case must say, where it is specific
SAYS = {"step_in_place": "modified its input h_prev",
        "step_none": "returned None",
        "back_in_place": "modified its input dh",
        "back_grads_only": "expected a tuple (dx, dh_prev, grads)",
        "back_dU_h_with_h_prev": "grads['U_h']",
        "back_dx_without_candidate": "dx:",
        "count_float": "expected an integer",
        "convention_in_place": "modified its input params"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(6, MUTANTS, SAYS)


def test_the_mapping_of_6_4_computes_the_same_states():
    """The reference of 6.4 against the thing it claims: for a diagonal
    U_h the two conventions' GRUs give the same states (and for a full
    U_h they do not, so the check has something to find)."""
    r = B.make_rng(3)
    p = gru.init_params(3, 4, 2, r)
    p = {k: v + B.random_normal(tuple(v.shape), r, 0.3) for k, v in p.items()}
    x, h0 = B.random_normal((15, 2, 3), r), B.random_normal((2, 4), r, 0.5)
    mapping = SOLVED["6.4"]
    xp = B.namespace(x)
    diag = dict(p, U_h=p["U_h"] * B.asarray(xp.eye(4)))

    def gap(q):
        a, _ = gru.hidden_forward(q, x, h0)
        b, _ = gru.hidden_forward(mapping(q), x, h0)
        return float(xp.max(xp.abs(a - b)))

    assert gru.convention(mapping(diag)) == "pytorch"
    assert gap(diag) < 1e-12
    assert gap(p) > 1e-3
