"""Chapter 3 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/03-bptt.md`` is graded on every backend: the
solved function must pass every case, and each wrong implementation below
(tanh' taken of the output as if it were z, a dropped "part 2", a
transposed gradient, h(t) for h(t-1), a forward loop in time, no
accumulation over time, a state not carried, the overlap of windows
counted twice, a mutated input, a missing return, ...) must fail.
"""

from pathlib import Path

import numpy as np
import pytest

from companion import backend as B
from companion import bptt, checks
from companion.grading.ch03 import truncated_gradient

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "03-bptt.md"
SOLVED = solved_functions(SOLUTION)


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(3) == ["3.1", "3.2", "3.3", "3.4", "3.5",
                                    "3.6", "3.7"]
    assert set(SOLVED) == set(checks.chapter_ids(3))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


def test_truncated_reference_with_length_T_is_full_bptt(backend):
    """The spec of 3.4: length = T gives full BPTT's loss and gradient."""
    r = np.random.default_rng(0)
    params = {"W_e": r.normal(size=(3, 4)), "W_h": r.normal(size=(3, 3)),
              "b_e": r.normal(size=3), "W_s": r.normal(size=(4, 3)),
              "b_s": r.normal(size=4)}
    params = {k: B.asarray(v) for k, v in params.items()}
    x = B.asarray(r.normal(size=(6, 2, 4)))
    y = B.asarray(r.integers(0, 4, (6, 2)))
    h0 = B.asarray(r.normal(size=(2, 3)))
    E, grads = truncated_gradient(params, x, y, h0, 6, 2)
    full = bptt.full_bptt(params, x, y, h0)
    assert E == pytest.approx(full.loss, rel=1e-12)
    for k in params:
        assert tuple(grads[k].shape) == tuple(params[k].shape)
        np.testing.assert_allclose(B.to_numpy(grads[k]),
                                   B.to_numpy(full.grads[k]),
                                   rtol=1e-10, atol=1e-12)


# -- mutants of 3.1: one step of RNNBACK ----------------------------------


def _step(params, dh, x, h_prev, h, dz=None, dh_prev=None, dW_e=None,
          dW_h=None, db_e=None):
    """The right step, with any one piece replaced by a wrong one."""
    xp = _ns(dh)
    dz = dh * (1.0 - h * h) if dz is None else dz
    grads = {"W_e": dz.T @ x if dW_e is None else dW_e,
             "W_h": dz.T @ h_prev if dW_h is None else dW_h,
             "b_e": xp.sum(dz, axis=0) if db_e is None else db_e}
    return (dz @ params["W_e"],
            dz @ params["W_h"] if dh_prev is None else dh_prev, grads)


def step_tanh_of_output(params, dh, x, h_prev, h):
    # 1 - tanh(h)²: the output h taken for the pre-activation z_h
    xp = _ns(dh)
    return _step(params, dh, x, h_prev, h,
                 dz=dh * (1.0 - xp.tanh(h) ** 2))


def step_dh_prev_without_derivative(params, dh, x, h_prev, h):
    # part 2 passed back as W_h^T dh, skipping f_h'
    return _step(params, dh, x, h_prev, h, dh_prev=dh @ params["W_h"])


def step_dW_e_transposed(params, dh, x, h_prev, h):  # X(t) dz_h^T
    return _step(params, dh, x, h_prev, h, dW_e=x.T @ (dh * (1 - h * h)))


def step_dW_h_transposed(params, dh, x, h_prev, h):  # h(t-1) dz_h^T
    return _step(params, dh, x, h_prev, h,
                 dW_h=h_prev.T @ (dh * (1 - h * h)))


def step_dW_h_with_h_t(params, dh, x, h_prev, h):  # h(t), not h(t-1)
    return _step(params, dh, x, h_prev, h, dW_h=(dh * (1 - h * h)).T @ h)


def step_db_e_wrong_axis(params, dh, x, h_prev, h):  # summed over H
    return _step(params, dh, x, h_prev, h,
                 db_e=_ns(dh).sum(dh * (1 - h * h), axis=1))


def step_mean_over_batch(params, dh, x, h_prev, h):
    dx, dh_prev, grads = _step(params, dh, x, h_prev, h)
    return dx, dh_prev, {k: g / dh.shape[0] for k, g in grads.items()}


def step_in_place(params, dh, x, h_prev, h):
    dh *= 1.0 - h * h
    return _step(params, dh, x, h_prev, h, dz=dh)


def step_none(params, dh, x, h_prev, h):
    _step(params, dh, x, h_prev, h)


# -- mutants of 3.2: RNNBACK over a sequence ------------------------------


def _rnnback(params, dz_s, x, hs, order="backward", accumulate=True,
             part2=True, dW_h_state=0, dW_s_state=1, f_state=1):
    """RNNBACK with switches for the usual mistakes (defaults: right).

    ``*_state`` picks hs[t + offset] for that line: 0 is h(t-1), 1 is h(t)
    in the 0-based loop.
    """
    xp = _ns(dz_s)
    grads = {k: xp.zeros_like(v) for k, v in params.items()}
    dh_next = xp.zeros_like(hs[0, ...])
    T = x.shape[0]
    steps = reversed(range(T)) if order == "backward" else range(T)
    for t in steps:
        h = hs[t + f_state, ...]
        dh = dz_s[t, ...] @ params["W_s"] + (dh_next if part2 else 0.0)
        dz = dh * (1.0 - h * h)
        new = {"b_s": xp.sum(dz_s[t, ...], axis=0),
               "W_s": dz_s[t, ...].T @ hs[t + dW_s_state, ...],
               "W_e": dz.T @ x[t, ...], "b_e": xp.sum(dz, axis=0),
               "W_h": dz.T @ hs[t + dW_h_state, ...]}
        grads = {k: (grads[k] + new[k]) if accumulate else new[k]
                 for k in grads}
        dh_next = dz @ params["W_h"]
    return grads, dh_next


def rnnback_no_accumulation(params, dz_s, x, hs):  # only step 1 remains
    return _rnnback(params, dz_s, x, hs, accumulate=False)


def rnnback_dW_h_with_h_t(params, dz_s, x, hs):  # off by one in time
    return _rnnback(params, dz_s, x, hs, dW_h_state=1)


def rnnback_no_part_2(params, dz_s, x, hs):  # dh_next forgotten
    return _rnnback(params, dz_s, x, hs, part2=False)


def rnnback_forward_in_time(params, dz_s, x, hs):  # t = 1..T
    return _rnnback(params, dz_s, x, hs, order="forward")


def rnnback_dW_s_with_h_prev(params, dz_s, x, hs):  # dz_s h(t-1)^T
    return _rnnback(params, dz_s, x, hs, dW_s_state=0)


def rnnback_derivative_at_t_minus_1(params, dz_s, x, hs):  # f_h' of h(t-1)
    return _rnnback(params, dz_s, x, hs, f_state=0)


def rnnback_grads_only(params, dz_s, x, hs):  # dh(0) not returned
    return _rnnback(params, dz_s, x, hs)[0]


# -- mutants of 3.3: the windows ------------------------------------------


def _windows(T, length, stride, clamp_end=True, clamp_start=True,
             start_from="end"):
    out, new = [], 0
    while new < T:
        end = min(T, new + stride) if clamp_end else new + stride
        anchor = end if start_from == "end" else new
        start = anchor - length if start_from != "new_only" else new
        out.append((max(0, start) if clamp_start else start, new, end))
        new = end
    return out


def windows_end_past_T(T, length, stride):
    return _windows(T, length, stride, clamp_end=False)


def windows_negative_start(T, length, stride):
    return _windows(T, length, stride, clamp_start=False)


def windows_no_overlap(T, length, stride):  # start = new: length ignored
    return _windows(T, length, stride, start_from="new_only")


def windows_back_from_new(T, length, stride):  # length steps before new
    return _windows(T, length, stride, start_from="new")


def windows_stride_ignored(T, length, stride):  # stride = length
    return _windows(T, length, length)


def windows_floats(T, length, stride):
    return [tuple(float(i) for i in w) for w in _windows(T, length, stride)]


# -- mutants of 3.4: truncated BPTT ---------------------------------------


def _truncated(params, x, y, h0, length, stride, start_state="forward",
               mask=True, last=True):
    xp = _ns(x)
    dev, n_seq = B.device(x), x.shape[1]
    states, E = [h0], 0.0
    grads = {k: xp.zeros_like(v) for k, v in params.items()}
    previous = h0
    for start, new, end in bptt.windows(x.shape[0], length, stride):
        if not last and end - new < stride:
            break
        h = {"forward": states[start], "zeros": xp.zeros_like(h0),
             "h0": h0, "last": previous}[start_state]
        m = None
        if mask:
            m = xp.concat([xp.zeros((new - start, n_seq), dtype=x.dtype,
                                    device=dev),
                           xp.ones((end - new, n_seq), dtype=x.dtype,
                                   device=dev)], axis=0)
        res = bptt.full_bptt(params, x[start:end, ...], y[start:end, ...],
                             h, mask=m)
        E += res.loss
        grads = {k: grads[k] + res.grads[k] for k in grads}
        states += [res.hs[t - start, ...] for t in range(new, end)]
        previous = res.hs[-1, ...]
    return E, grads


def truncated_from_zeros(params, x, y, h0, length, stride):
    return _truncated(params, x, y, h0, length, stride, start_state="zeros")


def truncated_restart_from_h0(params, x, y, h0, length, stride):
    return _truncated(params, x, y, h0, length, stride, start_state="h0")


def truncated_last_state_carried(params, x, y, h0, length, stride):
    # h at the end of the previous window: right for disjoint windows only
    return _truncated(params, x, y, h0, length, stride, start_state="last")


def truncated_overlap_counted_twice(params, x, y, h0, length, stride):
    return _truncated(params, x, y, h0, length, stride, mask=False)


def truncated_last_window_dropped(params, x, y, h0, length, stride):
    return _truncated(params, x, y, h0, length, stride, last=False)


def truncated_ignores_length(params, x, y, h0, length, stride):
    res = bptt.full_bptt(params, x, y, h0)  # full BPTT: k ignored
    return res.loss, res.grads


def truncated_grads_only(params, x, y, h0, length, stride):
    return _truncated(params, x, y, h0, length, stride)[1]


MUTANTS = {
    "3.1": [step_tanh_of_output, step_dh_prev_without_derivative,
            step_dW_e_transposed, step_dW_h_transposed, step_dW_h_with_h_t,
            step_db_e_wrong_axis, step_mean_over_batch, step_in_place,
            step_none],
    "3.2": [rnnback_no_accumulation, rnnback_dW_h_with_h_t,
            rnnback_no_part_2, rnnback_forward_in_time,
            rnnback_dW_s_with_h_prev, rnnback_derivative_at_t_minus_1,
            rnnback_grads_only],
    "3.3": [windows_end_past_T, windows_negative_start, windows_no_overlap,
            windows_back_from_new, windows_stride_ignored, windows_floats],
    "3.4": [truncated_from_zeros, truncated_restart_from_h0,
            truncated_last_state_carried, truncated_overlap_counted_twice,
            truncated_last_window_dropped, truncated_ignores_length,
            truncated_grads_only],
}
# what the first failing case must say, where it is specific
SAYS = {"step_in_place": "modified its input dh",
        "step_none": "returned None",
        "step_db_e_wrong_axis": "grads['b_e']: wrong shape",
        "rnnback_grads_only": "expected a tuple (grads, dh0)",
        "windows_floats": "expected an integer",
        "truncated_grads_only": "expected a tuple (E, grads)",
        "truncated_ignores_length": "grads['"}



# -- other right answers pass ---------------------------------------------


def rnnback_with_step_function(params, dz_s, x, hs):
    """RNNBACK through 3.1's step, the output layer for all t at once."""
    xp = _ns(dz_s)
    K, H = params["W_s"].shape
    flat = xp.reshape(dz_s, (-1, K))
    grads = {"W_s": flat.T @ xp.reshape(hs[1:, ...], (-1, H)),
             "b_s": xp.sum(flat, axis=0)}
    dhs = dz_s @ params["W_s"]
    dh_next = xp.zeros_like(hs[0, ...])
    for t in range(x.shape[0] - 1, -1, -1):
        _, dh_next, g = SOLVED["3.1"](params, dhs[t, ...] + dh_next,
                                      x[t, ...], hs[t, ...], hs[t + 1, ...])
        grads = {**grads, **{k: grads.get(k, 0.0) + v
                             for k, v in g.items()}}
    return {k: grads[k] for k in params}, dh_next


def truncated_disjoint_shortcut(params, x, y, h0, length, stride):
    """Right for length = stride only, as the check's disjoint cases;
    for overlapping windows it falls back on the general solution."""
    if length != stride:
        return SOLVED["3.4"](params, x, y, h0, length, stride)
    return _truncated(params, x, y, h0, length, stride)


@pytest.mark.parametrize("ex, fn", [
    ("3.2", rnnback_with_step_function),
    ("3.4", truncated_disjoint_shortcut)],
    ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    report = checks.grade(ex, fn)
    assert report.verdict == checks.PASSED, report.text()


# -- 3.5, 3.6, 3.7: the references against independent oracles ------------


def test_window_reference_against_central_differences():
    """The reference of 3.5 is the gradient of the last step's loss."""
    from companion.gradcheck import assert_gradients_close, check_gradients
    from companion.grading.ch03 import _window_cases, window_gradient
    case = _window_cases()[2].inputs
    args = {k: B.asarray(v) if not isinstance(v, dict) else
            {n: B.asarray(a) for n, a in v.items()}
            for k, v in case.items()}
    _, grads = window_gradient(**args)
    results = check_gradients(
        lambda p: window_gradient(p, args["x"], args["y"], args["h"])[0],
        args["params"], grads)
    assert_gradients_close(results, 1e-7)


def test_softmax_mse_reference_against_central_differences():
    from companion.gradcheck import numerical_gradient
    from companion.grading.ch03 import dz_s_softmax_mse
    r = np.random.default_rng(1)
    z, y = r.normal(size=(3, 4)), r.dirichlet(np.ones(4), 3)

    def L(z_):
        o = np.exp(z_ - z_.max(-1, keepdims=True))
        o /= o.sum(-1, keepdims=True)
        return 0.5 * np.sum((o - y) ** 2)

    num = numerical_gradient(L, z)
    np.testing.assert_allclose(dz_s_softmax_mse(z, y), num, rtol=1e-6,
                               atol=1e-9)


def test_predicted_steps_reference_counts_the_trainers():
    """The closed form of 3.7 against the steps the package runs."""
    import types
    from companion import optim, rnn
    from companion.grading.ch03 import predicted_steps
    counts = {"f": 0, "b": 0}

    def fwd(params, x, h0, f_h="tanh"):
        counts["f"] += x.shape[0]
        return rnn.hidden_forward(params, x, h0, f_h)

    def bwd(params, dz_s, cache):
        counts["b"] += dz_s.shape[0]
        return rnn.backward(params, dz_s, cache)

    model = types.SimpleNamespace(hidden_forward=fwd, backward=bwd,
                                  state_at=rnn.state_at,
                                  zero_state=rnn.zero_state)
    r = np.random.default_rng(2)
    p0 = rnn.init_params(3, 4, 3, r)
    for n, k, passes in ((12, 5, 1), (7, 7, 2), (9, 1, 1)):
        x = B.asarray(r.normal(size=(n, 2, 3)))
        y = B.asarray(r.integers(0, 3, (n, 2)))
        counts.update(f=0, b=0)
        bptt.train_stride1(p0, x, y, k, optim.SGD(0.1), passes=passes,
                           model=model)
        s1 = (counts["f"], counts["b"])
        counts.update(f=0, b=0)
        bptt.train(p0, [(x, y)] * passes, optim.SGD(0.1), window=k,
                   progress=False, model=model)
        assert predicted_steps(n, k, passes) == s1 + (counts["f"],
                                                      counts["b"])


# -- mutants of 3.5, 3.6, 3.7 ----------------------------------------------


def _window(params, x, y, h, steps="last", sign=1.0, mean=True, reach=None,
            target=-1):
    """3.5 with switches for the usual mistakes (defaults: right)."""
    from companion import rnn
    xp = _ns(x)
    k, n = x.shape[0], x.shape[1]
    o, _, cache = rnn.forward(params, x, h, "tanh", "softmax")
    K = o.shape[-1]
    onehot = xp.astype(y[..., None] == xp.arange(K, device=B.device(y)),
                       o.dtype)
    dz = (o - onehot) * sign / (n if mean else 1)
    if steps == "last":
        keep = xp.astype(xp.arange(k, device=B.device(x)) == k - 1,
                         o.dtype)[:, None, None]
        if target != -1:  # the target of another step
            dz = xp.concat([xp.zeros_like(dz[:-1, ...]),
                            ((o[-1, ...] - onehot[target, ...]) * sign
                             / (n if mean else 1))[None, ...]], axis=0)
        else:
            dz = dz * keep
    E = float(-xp.sum(xp.log(xp.sum(o[-1, ...] * onehot[-1, ...], axis=1))))
    E = E / (n if mean else 1)
    if reach == 1:  # only the last copy's change: the gradient of k = 1
        res = bptt.last_error_bptt(params, x[-1:, ...], y[-1:, ...],
                                   rnn.state_at(cache, k - 1))
        return E, res.grads
    return E, rnn.backward(params, dz, cache).grads


def window_every_step(params, x, y, h):  # the loss of every step
    return _window(params, x, y, h, steps="all")


def window_e_as_gradient(params, x, y, h):  # y - p taken as dE/dz_s
    return _window(params, x, y, h, sign=-1.0)


def window_summed_over_batch(params, x, y, h):  # no mean over B
    return _window(params, x, y, h, mean=False)


def window_last_copy_only(params, x, y, h):  # no sum over the k copies
    return _window(params, x, y, h, reach=1)


def window_first_target(params, x, y, h):  # y[0] for the last output
    return _window(params, x, y, h, target=0)


def window_grads_only(params, x, y, h):
    return _window(params, x, y, h)[1]


def _softmax(z):
    xp = _ns(z)
    o = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return o / xp.sum(o, axis=-1, keepdims=True)


def dz_o_minus_y(z, y):  # the cross-entropy's answer
    return _softmax(z) - y


def dz_entrywise(z, y):  # the softmax taken entry by entry
    o = _softmax(z)
    return o * (1.0 - o) * (o - y)


def dz_mean_over_batch(z, y):  # L averaged over B, not summed
    xp = _ns(z)
    o = _softmax(z)
    g = o - y
    return (o * g - o * xp.sum(o * g, axis=-1, keepdims=True)) / z.shape[0]


def dz_sign(z, y):
    xp = _ns(z)
    o = _softmax(z)
    return -(o * (o - y) - o * xp.sum(o * (o - y), axis=-1, keepdims=True))


def steps_no_context_step(n, k, passes):  # line 2.2.7 forgotten
    w = n - k + 1
    return (passes * w * k, passes * w * k, passes * n, passes * n)


def steps_n_windows(n, k, passes):  # n windows, not n - k + 1
    return (passes * n * (k + 1), passes * n * k, passes * n, passes * n)


def steps_disjoint_k_times(n, k, passes):  # disjoint counted like stride 1
    w = n - k + 1
    return (passes * w * (k + 1), passes * w * k, passes * n * k,
            passes * n * k)


def steps_one_pass(n, k, passes):  # passes ignored
    w = n - k + 1
    return (w * (k + 1), w * k, n, n)


MUTANTS.update({
    "3.5": [window_every_step, window_e_as_gradient,
            window_summed_over_batch, window_last_copy_only,
            window_first_target, window_grads_only],
    "3.6": [dz_o_minus_y, dz_entrywise, dz_mean_over_batch,
            dz_sign],
    "3.7": [steps_no_context_step, steps_n_windows, steps_disjoint_k_times,
            steps_one_pass],
})
SAYS.update({"window_grads_only": "expected a tuple (E, grads)"})


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(3, MUTANTS, SAYS)
