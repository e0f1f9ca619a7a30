"""Exercises of chapter 1 (recurrent networks): the checks are sharp.

The checker must accept the solutions of
``solutions/01-recurrent-networks.md`` and other correct ways of writing
them, and reject, on every backend, the plausible mistakes: a dropped
term, a transposed matrix, an output read one step early, a softmax over
the wrong axis, a state that is not carried, a wrong activation, a count
that forgets a bias or gives a layer the wrong input size, a function
that writes into its input or returns None. The references are those of
the package (``companion.rnn``, ``companion.losses``); the command line
passes the solved notebook and fails the unsolved one.
"""

from pathlib import Path

import numpy as np
import pytest

from companion.grading import ch01 as specs
from companion import backend as B
from companion import checks, rnn

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01-recurrent-networks.md"
SOLVED = solved_functions(SOLUTION)
IDS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(1) == IDS
    assert sorted(SOLVED) == IDS


@pytest.mark.parametrize("ex", IDS)
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


def test_the_cases_cover_the_edge_shapes():
    labels = {ex: " ".join(c.label for c in checks.exercises()[ex].cases())
              for ex in IDS}
    for ex in ("1.2", "1.4"):
        for edge in ("T = 1", "B = 1", "H = 1"):
            assert edge in labels[ex], (ex, edge)
    assert "B = 1" in labels["1.1"] and "H = 1" in labels["1.1"]
    assert "D = H" in labels["1.1"]
    # non-zero biases and states: a dropped term cannot hide
    for ex in ("1.1", "1.2", "1.4"):
        for case in checks.exercises()[ex].cases():
            weights = case.inputs.get("params", case.inputs)
            assert np.all(weights["b_e"] != 0.0), (ex, case.label)


@pytest.mark.parametrize("D, sizes, K", [
    (1, [1], 1), (2, [3], 2), (2, [3, 4], 2), (3, [1, 1], 1),
    (5, [4, 3, 2], 6)])
def test_stack_count_is_the_size_of_init_stack(backend, D, sizes, K):
    params = rnn.init_stack(D, sizes, K, B.make_rng(0))
    total = sum(int(np.prod(p.shape)) for p in params.values())
    count = specs.stack_parameter_count(D, sizes, K)
    assert isinstance(count, int)
    assert count == total


def test_many_to_one_gradient_is_zero_before_the_last_step(backend):
    case = checks.exercises()["1.4"].cases()[0]
    moved = {k: (B.asarray(v) if not isinstance(v, dict) else
                 {n: B.asarray(a) for n, a in v.items()})
             for k, v in case.inputs.items()}
    E, dz = specs.many_to_one_loss(**moved)
    dz = B.to_numpy(dz)
    assert dz.shape == case.inputs["x"].shape[:2] + (2,)
    assert dz.dtype == np.float64
    assert np.all(dz[:-1] == 0.0)
    assert np.allclose(dz[-1].sum(axis=-1), 0.0)  # o(T) - y sums to 0
    assert float(E) > 0.0


# -- mistakes the checks must catch ----------------------------------------


def _ns(x):
    return B.namespace(x)


def _softmax(z, axis=-1):
    xp = _ns(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def step_W_e_not_transposed(x_t, h_prev, W_e, W_h, b_e):
    return _ns(x_t).tanh(x_t @ W_e + h_prev @ W_h.T + b_e)


def step_W_h_not_transposed(x_t, h_prev, W_e, W_h, b_e):
    return _ns(x_t).tanh(x_t @ W_e.T + h_prev @ W_h + b_e)


def step_no_bias(x_t, h_prev, W_e, W_h, b_e):
    return _ns(x_t).tanh(x_t @ W_e.T + h_prev @ W_h.T)


def step_no_memory(x_t, h_prev, W_e, W_h, b_e):  # h(t-1) ignored
    return _ns(x_t).tanh(x_t @ W_e.T + b_e)


def step_relu(x_t, h_prev, W_e, W_h, b_e):
    z = x_t @ W_e.T + h_prev @ W_h.T + b_e
    return _ns(z).where(z > 0, z, 0.0 * z)


def step_sigmoid(x_t, h_prev, W_e, W_h, b_e):
    z = x_t @ W_e.T + h_prev @ W_h.T + b_e
    return 1.0 / (1.0 + _ns(z).exp(-z))


def step_no_activation(x_t, h_prev, W_e, W_h, b_e):
    return x_t @ W_e.T + h_prev @ W_h.T + b_e


def step_in_place(x_t, h_prev, W_e, W_h, b_e):  # overwrites h(t-1)
    h_prev[...] = _ns(x_t).tanh(x_t @ W_e.T + h_prev @ W_h.T + b_e)
    return h_prev


def step_none(x_t, h_prev, W_e, W_h, b_e):
    _ns(x_t).tanh(x_t @ W_e.T + h_prev @ W_h.T + b_e)


def _run(params, x, h0, read_before=False, carry=True, axis=-1,
         output=_softmax):
    """RNNRUN with one planted mistake."""
    xp = _ns(x)
    h, zs = h0, []
    for t in range(x.shape[0]):
        new = xp.tanh(x[t, ...] @ params["W_e"].T
                      + (h if carry else h0) @ params["W_h"].T
                      + params["b_e"])
        read = h if read_before else new  # o(t) from h(t-1) or h(t)
        zs.append(read @ params["W_s"].T + params["b_s"])
        h = new
    z = xp.stack(zs, axis=0)
    return (output(z, axis=axis) if output is _softmax else output(z)), h


def run_off_by_one(params, x, h0):  # o(t) from h(t-1)
    return _run(params, x, h0, read_before=True)


def run_softmax_over_time(params, x, h0):
    return _run(params, x, h0, axis=0)


def run_softmax_over_batch(params, x, h0):
    return _run(params, x, h0, axis=1)


def run_state_not_carried(params, x, h0):  # h(t-1) = h(0) at every step
    return _run(params, x, h0, carry=False)


def run_from_zero(params, x, h0):  # h(0) = 0 whatever is given
    return _run(params, x, _ns(h0).zeros_like(h0))


def run_no_softmax(params, x, h0):
    return _run(params, x, h0, output=lambda z: z)


def run_returns_h1(params, x, h0):  # h(1), not h(T)
    o, _ = _run(params, x, h0)
    _, h1 = _run(params, x[:1, ...], h0)
    return o, h1


def run_only_o(params, x, h0):
    return _run(params, x, h0)[0]


def run_writes_x(params, x, h0):  # keeps the states in x's memory
    o, h = _run(params, x, h0)
    x[...] = 0.0 * x
    return o, h


def count_no_output_bias(D, sizes, K):
    return specs.stack_parameter_count(D, sizes, K) - K


def count_no_hidden_biases(D, sizes, K):
    return specs.stack_parameter_count(D, sizes, K) - sum(sizes)


def count_W_h_from_below(D, sizes, K):  # W_h_l counted as (H_l, H_{l-1})
    total, fan_in = 0, D
    for H in sizes:
        total += H * fan_in + H * fan_in + H
        fan_in = H
    return total + K * fan_in + K


def count_every_layer_reads_X(D, sizes, K):  # W_e_l as (H_l, D)
    total = sum(H * D + H * H + H for H in sizes)
    return total + K * sizes[-1] + K


def count_output_from_first(D, sizes, K):  # W_s counted as (K, H_1)
    return (specs.stack_parameter_count(D, sizes, K)
            - K * sizes[-1] + K * sizes[0])


def count_float(D, sizes, K):
    return float(specs.stack_parameter_count(D, sizes, K))


def count_none(D, sizes, K):
    specs.stack_parameter_count(D, sizes, K)


def _cross_entropy(z, y, xp):
    """(Σ_b -log softmax(z_b)_{y_b}, softmax(z) - onehot(y)) of (B, K)."""
    o = _softmax(z)
    ks = xp.arange(z.shape[-1], device=B.device(z))
    t = xp.astype(y[:, None] == ks, z.dtype)
    return -xp.sum(t * xp.log(o)), o - t


def _logits(params, x, h0):
    z_s, _, _ = rnn.forward(params, x, h0, f_s="identity")
    return z_s


def _pad(xp, dz_T, z_s):
    return xp.concat([xp.zeros_like(z_s[:-1, ...]), dz_T[None, ...]],
                     axis=0)


def m2o_first_step(params, x, h0, y):  # reads o(1), not o(T)
    xp, z_s = _ns(x), _logits(params, x, h0)
    E, dz = _cross_entropy(z_s[0, ...], y, xp)
    return E, xp.concat([dz[None, ...], xp.zeros_like(z_s[1:, ...])],
                        axis=0)


def m2o_every_step(params, x, h0, y):  # no mask: loss at every t
    xp, z_s = _ns(x), _logits(params, x, h0)
    parts = [_cross_entropy(z_s[t, ...], y, xp) for t in range(x.shape[0])]
    return (sum(E for E, _ in parts),
            xp.stack([dz for _, dz in parts], axis=0))


def m2o_gradient_everywhere(params, x, h0, y):  # E right, dz unmasked
    xp, z_s = _ns(x), _logits(params, x, h0)
    E, _ = _cross_entropy(z_s[-1, ...], y, xp)
    grads = [_cross_entropy(z_s[t, ...], y, xp)[1]
             for t in range(x.shape[0])]
    return E, xp.stack(grads, axis=0)


def m2o_batch_mean(params, x, h0, y):
    xp, z_s = _ns(x), _logits(params, x, h0)
    E, dz = _cross_entropy(z_s[-1, ...], y, xp)
    batch = x.shape[1]
    return E / batch, _pad(xp, dz / batch, z_s)


def m2o_no_target(params, x, h0, y):  # dz = o(T): y never subtracted
    xp, z_s = _ns(x), _logits(params, x, h0)
    E, _ = _cross_entropy(z_s[-1, ...], y, xp)
    return E, _pad(xp, _softmax(z_s[-1, ...]), z_s)


def m2o_last_step_only(params, x, h0, y):  # dz of shape (B, K)
    xp, z_s = _ns(x), _logits(params, x, h0)
    return _cross_entropy(z_s[-1, ...], y, xp)


def m2o_softmax_outputs_as_logits(params, x, h0, y):  # softmax twice
    xp = _ns(x)
    o, _, _ = rnn.forward(params, x, h0, f_s="softmax")
    E, dz = _cross_entropy(o[-1, ...], y, xp)
    return E, _pad(xp, dz, o)


def m2o_none(params, x, h0, y):
    _logits(params, x, h0)


# -- mutants of 1.5: a linear one-to-many network -------------------------


def _linear(W_e, W_h, W_s, b_s, x1, T, first_power=0, transpose_h=False,
            bias=True, refeed=False):
    """The closed form with one switch for each usual mistake."""
    xp = B.namespace(x1)
    h = x1 @ W_e.T
    for _ in range(first_power):
        h = h @ W_h.T
    outputs = []
    for _ in range(T):
        outputs.append(h @ W_s.T + (b_s if bias else 0.0))
        h = h @ (W_h if transpose_h else W_h.T)
        if refeed:                      # X(t) kept at X(1), not zero
            h = h + x1 @ W_e.T
    return xp.stack(outputs)


def linear_one_power_too_many(W_e, W_h, W_s, b_s, x1, T):  # W_h^t
    return _linear(W_e, W_h, W_s, b_s, x1, T, first_power=1)


def linear_W_h_transposed(W_e, W_h, W_s, b_s, x1, T):
    return _linear(W_e, W_h, W_s, b_s, x1, T, transpose_h=True)


def linear_no_output_bias(W_e, W_h, W_s, b_s, x1, T):
    return _linear(W_e, W_h, W_s, b_s, x1, T, bias=False)


def linear_input_every_step(W_e, W_h, W_s, b_s, x1, T):
    return _linear(W_e, W_h, W_s, b_s, x1, T, refeed=True)


def linear_last_output_only(W_e, W_h, W_s, b_s, x1, T):
    return _linear(W_e, W_h, W_s, b_s, x1, T)[-1]


# -- mutants of 1.6: the cost of RNNRUN -------------------------------------


def cost_no_output_layer(T, B_, D, H, K):
    return T * B_ * (D * H + H * H)


def cost_one_sequence(T, B_, D, H, K):  # the batch forgotten
    return T * (D * H + H * H + H * K)


def cost_square_input(T, B_, D, H, K):  # W_e taken as (H, H)
    return T * B_ * (2 * H * H + H * K)


def cost_T_plus_one(T, B_, D, H, K):  # an extra step for h(0)
    return (T + 1) * B_ * (D * H + H * H + H * K)


def cost_float(T, B_, D, H, K):
    return float(T * B_ * (D * H + H * H + H * K))


MUTANTS = {
    "1.1": [step_W_e_not_transposed, step_W_h_not_transposed, step_no_bias,
            step_no_memory, step_relu, step_sigmoid, step_no_activation,
            step_in_place, step_none],
    "1.2": [run_off_by_one, run_softmax_over_time, run_softmax_over_batch,
            run_state_not_carried, run_from_zero, run_no_softmax,
            run_returns_h1, run_only_o, run_writes_x],
    "1.3": [count_no_output_bias, count_no_hidden_biases,
            count_W_h_from_below, count_every_layer_reads_X,
            count_output_from_first, count_float, count_none],
    "1.4": [m2o_first_step, m2o_every_step, m2o_gradient_everywhere,
            m2o_batch_mean, m2o_no_target, m2o_last_step_only,
            m2o_softmax_outputs_as_logits, m2o_none],
    "1.5": [linear_one_power_too_many, linear_W_h_transposed,
            linear_no_output_bias, linear_input_every_step,
            linear_last_output_only],
    "1.6": [cost_no_output_layer, cost_one_sequence, cost_square_input,
            cost_T_plus_one, cost_float],
}
# what the first failing case must say, where it is specific
SAYS = {"step_W_e_not_transposed": "raised ValueError",
        "step_in_place": "modified its input h_prev",
        "step_none": "returned None",
        "run_only_o": "expected a tuple (o, h_T)",
        "run_writes_x": "modified its input x",
        "run_off_by_one": "o: max |error|",
        "run_returns_h1": "h_T: max |error|",
        "count_float": "expected an integer",
        "count_none": "returned None",
        "m2o_last_step_only": "dz_s: wrong shape",
        "m2o_none": "returned None"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(1, MUTANTS, SAYS)


def test_a_mistake_invisible_on_some_cases_is_caught_on_others(backend):
    # with h(t-1) = 0 the recurrent term vanishes: forgetting it passes
    # that case only; with T = 1, reading o(1) for o(T) is right
    verdicts = dict(checks.grade("1.1", step_no_memory).cases)
    assert verdicts["h(t-1) = 0, B = 2, D = 3, H = 2"] == checks.PASSED
    assert verdicts["B = 4, D = 5, H = 3"].startswith("max |error|")
    verdicts = dict(checks.grade("1.4", m2o_first_step).cases)
    assert verdicts["T = 1, B = 3, D = 2, H = 3, K = 3"] == checks.PASSED
    assert verdicts["T = 6, B = 4, D = 1, H = 5, K = 2"] != checks.PASSED


# -- other correct solutions -----------------------------------------------


def step_column_form(x_t, h_prev, W_e, W_h, b_e):  # the equation itself
    xp = _ns(x_t)
    z = W_e @ x_t.T + W_h @ h_prev.T + b_e[:, None]  # (H, B)
    return xp.permute_dims(xp.tanh(z), (1, 0))


def run_by_the_package(params, x, h0):  # step_forward + output_forward
    xp, state, outs = _ns(x), rnn.State(h0), []
    for t in range(x.shape[0]):
        state, _ = rnn.step_forward(params, x[t, ...], state)
        outs.append(rnn.output_forward(params, state.h, "softmax")[0])
    return xp.stack(outs, axis=0), state.h


def count_from_shapes(D, sizes, K):  # the arrays of init_stack, no data
    shapes, fan_in = [], D
    for H in sizes:
        shapes += [(H, fan_in), (H, H), (H,)]
        fan_in = H
    shapes += [(K, fan_in), (K,)]
    return sum(int(np.prod(s)) for s in shapes)


def m2o_with_the_mask(params, x, h0, y):  # losses with m(t) = [t = T]
    from companion import losses

    xp = _ns(x)
    T, batch = x.shape[0], x.shape[1]
    z_s = _logits(params, x, h0)
    mask = xp.zeros((T, batch), dtype=x.dtype, device=B.device(x))
    mask[T - 1, ...] = 1.0
    labels = xp.broadcast_to(y[None, :], (T, batch))
    return tuple(losses.softmax_cross_entropy(z_s, labels, mask=mask))


@pytest.mark.parametrize("ex, fn", [
    ("1.1", step_column_form), ("1.2", run_by_the_package),
    ("1.3", count_from_shapes), ("1.4", m2o_with_the_mask)],
    ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    # some of them call the package's own solution: the cases pass them,
    # the scan for calls of the reference flags them (test_checks)
    report = checks.grade(ex, fn, scan_source=False)
    assert report.verdict == checks.PASSED, report.text()
