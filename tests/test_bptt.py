"""companion.bptt: full and truncated BPTT, training loop, sampling."""

import math

import numpy as np
import pytest

from companion import bptt, optim, rnn
from companion import backend as B
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 relative_error)


def problem(T=7, batch=2, V=4, H=5, seed=0, objective="cross_entropy"):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(V, H, V, rng, recurrent="xavier")
    params["b_e"] = B.asarray(rng.normal(0, 0.2, H))
    params["b_s"] = B.asarray(rng.normal(0, 0.2, V))
    x = B.asarray(rng.normal(size=(T, batch, V)))
    h0 = B.asarray(rng.normal(0, 0.3, (batch, H)))
    if objective == "cross_entropy":
        y = B.asarray(rng.integers(0, V, (T, batch)))
    else:
        y = B.asarray(rng.normal(size=(T, batch, V)))
    return params, x, y, h0


def test_windows_count_every_step_once():
    # every window ends `length` steps back from its last step
    assert bptt.windows(7, 3) == [(0, 0, 3), (3, 3, 6), (4, 6, 7)]
    assert bptt.windows(7, 4, 2) == [(0, 0, 2), (0, 2, 4), (2, 4, 6),
                                     (3, 6, 7)]
    for T, k, s in [(1, 1, 1), (10, 3, 1), (10, 10, 10), (5, 9, 2)]:
        counted = [t for _, new, end in bptt.windows(T, k, s)
                   for t in range(new, end)]
        assert counted == list(range(T))
        assert all(end - start <= k for start, _, end in
                   bptt.windows(T, k, s))
    with pytest.raises(ValueError, match="stride .3. must not exceed"):
        bptt.windows(5, 2, 3)
    with pytest.raises(ValueError, match="length must be a positive int"):
        bptt.windows(5, 0)


@pytest.mark.parametrize("objective", bptt.OBJECTIVES)
def test_full_bptt_gradient_check(backend, objective):
    params, x, y, h0 = problem(objective=objective, seed=1)
    res = bptt.full_bptt(params, x, y, h0, objective)
    assert tuple(res.hs.shape) == (7, 2, 5)
    results = check_gradients(
        lambda p: bptt.full_bptt(p, x, y, h0, objective).loss,
        params, res.grads)
    assert_gradients_close(results, 1e-6)


@pytest.mark.parametrize("length,stride", [(7, None), (7, 3), (9, 2),
                                           (7, 1)])
def test_truncation_at_T_or_beyond_is_full_bptt(backend, length, stride):
    """Each loss term still flows back to t = 1: exact full BPTT."""
    params, x, y, h0 = problem(seed=2)
    full = bptt.full_bptt(params, x, y, h0)
    trunc = bptt.truncated_bptt(params, x, y, h0, length, stride)
    assert math.isclose(trunc.loss, full.loss, rel_tol=1e-12)
    for k in params:
        assert relative_error(trunc.grads[k], full.grads[k]) < 1e-12, k


@pytest.mark.parametrize("length", [1, 2, 3])
def test_short_windows_keep_the_forward_and_cut_the_backward(backend,
                                                             length):
    params, x, y, h0 = problem(seed=3)
    full = bptt.full_bptt(params, x, y, h0)
    trunc = bptt.truncated_bptt(params, x, y, h0, length)
    # the forward pass is not truncated: same loss, same states
    assert math.isclose(trunc.loss, full.loss, rel_tol=1e-12)
    np.testing.assert_allclose(B.to_numpy(trunc.hs), B.to_numpy(full.hs),
                               rtol=1e-12)
    # the recurrent gradient is: it differs from the full one
    assert relative_error(trunc.grads["W_h"], full.grads["W_h"]) > 1e-3
    # output layer gradients need no recurrence: unchanged
    assert relative_error(trunc.grads["W_s"], full.grads["W_s"]) < 1e-12


def test_truncated_gradient_is_the_gradient_with_window_starts_fixed(
        backend):
    """Numerically: differentiate Σ_windows E_w(θ; h(start) held fixed)."""
    params, x, y, h0 = problem(T=6, seed=4)
    length = 2
    starts = bptt.full_bptt(params, x, y, h0).hs  # h(1..T), held fixed

    def windowed_loss(p):
        total = 0.0
        for start, _, end in bptt.windows(6, length):
            h_start = h0 if start == 0 else starts[start - 1, ...]
            total += bptt.full_bptt(p, x[start:end, ...], y[start:end, ...],
                                    h_start).loss
        return total

    trunc = bptt.truncated_bptt(params, x, y, h0, length)
    assert_gradients_close(check_gradients(windowed_loss, params,
                                           trunc.grads), 1e-6)


def test_overlapping_windows_gradient(backend):
    """length 3, stride 1: the loss at t flows back to t - 2 only."""
    params, x, y, h0 = problem(T=5, seed=5, objective="mse")
    starts = bptt.full_bptt(params, x, y, h0, "mse").hs

    def windowed_loss(p):
        total = 0.0
        for start, new, end in bptt.windows(5, 3, 1):
            h_start = h0 if start == 0 else starts[start - 1, ...]
            res = bptt.full_bptt(p, x[start:end, ...], y[start:end, ...],
                                 h_start, "mse")
            # only the new step's loss counts
            before = 0.0 if new == start else bptt.full_bptt(
                p, x[start:new, ...], y[start:new, ...], h_start,
                "mse").loss
            total += res.loss - before
        return total

    trunc = bptt.truncated_bptt(params, x, y, h0, 3, 1, objective="mse")
    assert_gradients_close(check_gradients(windowed_loss, params,
                                           trunc.grads), 1e-6)


def test_loss_at_initialisation_is_T_ln_V(backend):
    """Zero output weights: o(t) uniform, E = T ln V per sequence."""
    T, V = 12, 4
    params, x, y, h0 = problem(T=T, batch=1, V=V, seed=6)
    params["W_s"] = B.zeros((V, 5))
    params["b_s"] = B.zeros((V,))
    res = bptt.full_bptt(params, x, y, h0)
    assert math.isclose(res.loss, T * math.log(V), rel_tol=1e-12)
    # default initialisation, one-hot inputs of a vocabulary of 30
    V, H = 30, 64
    rng = np.random.default_rng(7)
    p = rnn.init_params(V, H, V, rng)
    idx = rng.integers(0, V, (T + 1, 8))
    x, y = B.asarray(np.eye(V)[idx[:-1]]), B.asarray(idx[1:])
    e = bptt.full_bptt(p, x, y, B.zeros((8, H)), reduction="batch").loss
    assert abs(e / (T * math.log(V)) - 1.0) < 0.05


def hello_batches():
    chars = "helo"
    idx = np.array([chars.index(c) for c in "hello"])
    x = B.asarray(np.eye(4)[idx[:-1]][:, None, :])  # (4, 1, 4)
    y = B.asarray(idx[1:][:, None])                 # (4, 1)
    return x, y


def test_train_learns_hello(backend):
    x, y = hello_batches()
    params = rnn.init_params(4, 8, 4, 0)
    before = {k: B.to_numpy(v).copy() for k, v in params.items()}
    new, hist = bptt.train(params, [(x, y)] * 150, optim.Adam(0.05),
                           clip=5.0, progress=False)
    assert len(hist.loss) == len(hist.grad_norm) == 150
    assert hist.loss[0] > 1.0 and hist.loss[-1] < 0.05
    o, _, _ = rnn.forward(new, x, B.zeros((1, 8)), "tanh", "softmax")
    assert B.to_numpy(o).argmax(-1)[:, 0].tolist() == [1, 2, 2, 3]  # ello
    for k in params:  # the caller's params are not modified
        np.testing.assert_array_equal(before[k], B.to_numpy(params[k]))


def test_train_clips_and_carries_state(backend):
    x, y = hello_batches()
    params = rnn.init_params(4, 8, 4, 0)
    _, hist = bptt.train(params, [(x, y)] * 3, optim.SGD(0.1), window=2,
                         clip=1e-3, carry_state=True, progress=False)
    assert len(hist.loss) == 6  # 2 windows of 2 steps per batch
    assert all(hist.clipped) and min(hist.grad_norm) > 1e-3


def test_sample_is_reproducible_and_in_range(backend):
    params = rnn.init_params(4, 8, 4, 0)
    a = bptt.sample(params, [0, 1], 20, 7)
    b = bptt.sample(params, [0, 1], 20, 7)
    assert a == b and len(a) == 20 and set(a) <= {0, 1, 2, 3}
    # a cold temperature picks the most likely symbol every time
    cold = bptt.sample(params, [0], 5, 1, temperature=1e-6)
    state = rnn.State(B.zeros((1, 8)))
    eye = np.eye(4)
    symbol, greedy = 0, []
    for _ in range(5):
        state, _ = rnn.step_forward(params, B.asarray(eye[[symbol]]), state)
        z = B.to_numpy(state.h @ params["W_s"].T + params["b_s"])[0]
        symbol = int(z.argmax())
        greedy.append(symbol)
    assert cold == greedy


def test_sample_after_training_spells_hello(backend):
    x, y = hello_batches()
    params, _ = bptt.train(rnn.init_params(4, 8, 4, 0), [(x, y)] * 150,
                           optim.Adam(0.05), progress=False)
    out = bptt.sample(params, [0], 4, 0, temperature=1e-3)
    assert "".join("helo"[i] for i in [0] + out) == "hello"


class CountingModel:
    """rnn behind the model protocol, counting the calls bptt makes."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append(name)
            return getattr(rnn, name)(*args, **kwargs)
        return call


def test_drivers_go_through_the_model_protocol(backend):
    """bptt calls only the protocol functions of the model it is given,
    and the results are those of the default model (rnn)."""
    params, x, y, h0 = problem(seed=11)
    model = CountingModel()
    res = bptt.truncated_bptt(params, x, y, h0, 3, model=model)
    ref = bptt.truncated_bptt(params, x, y, h0, 3)
    assert set(model.calls) == {"hidden_forward", "backward", "state_at"}
    assert res.loss == ref.loss
    np.testing.assert_array_equal(B.to_numpy(res.final),
                                  B.to_numpy(ref.final))
    xh, yh = hello_batches()
    model.calls.clear()
    bptt.train(rnn.init_params(4, 8, 4, 0), [(xh, yh)] * 2,
               optim.SGD(0.1), progress=False, model=model)
    assert "zero_state" in model.calls
    model.calls.clear()
    a = bptt.sample(rnn.init_params(4, 8, 4, 0), [0, 1], 5, 3, model=model)
    assert a == bptt.sample(rnn.init_params(4, 8, 4, 0), [0, 1], 5, 3)
    assert set(model.calls) == {"zero_state", "hidden_forward", "state_at"}


def test_bad_input_named(backend):
    params, x, y, h0 = problem()
    with pytest.raises(ValueError, match="objective must be one of"):
        bptt.full_bptt(params, x, y, h0, "hinge")
    with pytest.raises(ValueError, match="reduction must be 'sum' or"):
        bptt.truncated_bptt(params, x, y, h0, 2, reduction="mean")
    with pytest.raises(ValueError, match=r"prompt indices must lie in"):
        bptt.sample(params, [9], 3, 0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        bptt.sample(params, [1], 3, 0, temperature=0.0)


# -- the lectures' algorithm: stride 1, one error per window --------------


@pytest.mark.parametrize("objective", bptt.OBJECTIVES)
def test_last_error_window_gradient_check(backend, objective):
    """One window: the gradient of its last step's loss, through k copies,
    against central differences (of every weight and of the context)."""
    params, x, y, h0 = problem(T=4, objective=objective, seed=5)
    res = bptt.last_error_bptt(params, x, y, h0, objective)
    assert tuple(res.hs.shape) == (4, 2, 5)
    results = check_gradients(
        lambda p: bptt.last_error_bptt(p, x, y, h0, objective).loss,
        params, res.grads)
    assert_gradients_close(results, 1e-7)
    dh = check_gradients(
        lambda q: bptt.last_error_bptt(params, x, y, q["h"],
                                       objective).loss,
        {"h": h0}, {"h": res.dh0})
    assert_gradients_close(dh, 1e-7)


def test_last_error_is_full_bptt_of_the_last_step_only(backend):
    """The loss of the window is E(o(k), y(k)) (mean over the batch), and
    its gradient that of full BPTT with the loss of step k alone: an
    independent oracle built from the per-step loss and RNNBACK."""
    params, x, y, h0 = problem(T=5, seed=6)
    res = bptt.last_error_bptt(params, x, y, h0)
    o, _, cache = rnn.forward(params, x, h0, "tanh", "softmax")
    p = B.to_numpy(o)[-1]                          # (B, V), softmax
    yk = B.to_numpy(y)[-1]
    loss = -np.mean(np.log(p[np.arange(2), yk]))
    assert math.isclose(res.loss, loss, rel_tol=1e-12)
    dz = np.zeros(tuple(o.shape))
    dz[-1] = (p - np.eye(4)[yk]) / 2               # p - y = -e, mean over B
    back = rnn.backward(params, B.asarray(dz), cache)
    for k in params:
        assert relative_error(res.grads[k], back.grads[k]) < 1e-12, k


def test_stride1_training_is_the_pseudo_code(backend):
    """train_stride1 with SGD against the pseudo-code written out here:
    n - k + 1 updates per pass, each from the window's one error, the
    context advanced one step with the updated weights."""
    params, x, y, _ = problem(T=6, seed=7)
    k, lr = 3, 0.1
    new, hist = bptt.train_stride1(params, x, y, k, optim.SGD(lr),
                                   passes=2)
    assert len(hist.loss) == 2 * (6 - k + 1)
    p = dict(params)
    for _ in range(2):
        h = B.zeros((2, 5))
        for t in range(6 - k + 1):
            hs, _ = rnn.hidden_forward(p, x[t:t + k, ...], h)
            z = B.to_numpy(hs[-1, ...] @ p["W_s"].T + p["b_s"])
            prob = np.exp(z - z.max(-1, keepdims=True))
            prob /= prob.sum(-1, keepdims=True)
            e = np.eye(4)[B.to_numpy(y)[t + k - 1]] - prob  # y - p
            dz = np.zeros((k, 2, 4))
            dz[-1] = -e / 2                         # dE/dz_s = p - y
            _, _, cache = rnn.forward(p, x[t:t + k, ...], h)
            g = rnn.backward(p, B.asarray(dz), cache).grads
            p = {key: p[key] - lr * g[key] for key in p}
            h = rnn.hidden_forward(p, x[t:t + 1, ...], h)[0][0, ...]
    for key in params:
        assert relative_error(new[key], p[key]) < 1e-12, key


def test_stride1_with_k_equal_n_is_one_full_window(backend):
    params, x, y, _ = problem(T=4, seed=8)
    new, hist = bptt.train_stride1(params, x, y, 4, optim.SGD(0.5))
    res = bptt.last_error_bptt(params, x, y, B.zeros((2, 5)))
    assert hist.loss == [res.loss]
    for key in params:
        np.testing.assert_allclose(
            B.to_numpy(new[key]),
            B.to_numpy(params[key] - 0.5 * res.grads[key]), rtol=1e-12)
    with pytest.raises(ValueError, match="k must be an int in"):
        bptt.train_stride1(params, x, y, 5, optim.SGD(0.1))


def test_full_bptt_returns_dh0(backend):
    params, x, y, h0 = problem(seed=9)
    res = bptt.full_bptt(params, x, y, h0)
    checked = check_gradients(
        lambda q: bptt.full_bptt(params, x, y, q["h"]).loss,
        {"h": h0}, {"h": res.dh0})
    assert_gradients_close(checked, 1e-7)
