"""companion.rnn: RNNRUN/RNNBACK gradient-checked on every backend."""

import numpy as np
import pytest

from companion import activations, losses, rnn
from companion import backend as B
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 numerical_gradient, relative_error)

SEQ_TOL, STEP_TOL = 1e-6, 1e-7


def setup(T=4, batch=3, D=2, H=5, K=3, seed=0, f_s="identity"):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(D, H, K, rng, recurrent="xavier")
    # non-zero biases, so that a dropped bias term shows
    params["b_e"] = B.asarray(rng.normal(0, 0.3, H))
    params["b_s"] = B.asarray(rng.normal(0, 0.3, K))
    x = B.asarray(rng.normal(size=(T, batch, D)))
    h0 = B.asarray(rng.normal(0, 0.5, (batch, H)))
    if f_s == "softmax":
        y = B.asarray(rng.integers(0, K, (T, batch)))
    else:
        y = B.asarray(rng.uniform(0, 1, (T, batch, K)))
    return params, x, h0, y


def loss_and_dz(params, x, h0, y, f_h, f_s):
    """E and dE/dz_s for the output activation f_s."""
    o, _, cache = rnn.forward(params, x, h0, f_h, f_s)
    if f_s == "softmax":
        z_s = rnn.output_forward(params, cache.hs[1:, ...], "identity")[0]
        res = losses.softmax_cross_entropy(z_s, y)
        return res.loss, res.grad, cache
    res = losses.mse(o, y)
    dz = activations.get_activation(f_s).backward(res.grad, o)
    return res.loss, dz, cache


@pytest.mark.parametrize("f_h", rnn.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("f_s", rnn.OUTPUT_ACTIVATIONS)
def test_rnnback_gradient_check(backend, f_h, f_s):
    seed = 10 * rnn.HIDDEN_ACTIVATIONS.index(f_h) + \
        rnn.OUTPUT_ACTIVATIONS.index(f_s)
    params, x, h0, y = setup(f_s=f_s, seed=seed)
    loss, dz_s, cache = loss_and_dz(params, x, h0, y, f_h, f_s)
    back = rnn.backward(params, dz_s, cache)
    assert list(back.grads) == list(params)
    for k in params:
        assert tuple(back.grads[k].shape) == tuple(params[k].shape)
        assert back.grads[k].dtype == params[k].dtype
    results = check_gradients(
        lambda p: loss_and_dz(p, x, h0, y, f_h, f_s)[0], params, back.grads)
    assert_gradients_close(results, SEQ_TOL)
    # and the inputs: x and h(0)
    num_x = numerical_gradient(
        lambda v: loss_and_dz(params, v, h0, y, f_h, f_s)[0], x)
    num_h0 = numerical_gradient(
        lambda v: loss_and_dz(params, x, v, y, f_h, f_s)[0], h0)
    assert relative_error(back.dx, num_x) < SEQ_TOL
    assert relative_error(back.dh0, num_h0) < SEQ_TOL


@pytest.mark.parametrize("f_h", rnn.HIDDEN_ACTIVATIONS)
def test_step_backward_gradient_check(backend, f_h):
    params, x, h0, _ = setup(T=1, seed=3)
    dh = B.asarray(np.random.default_rng(4).normal(size=(3, 5)))
    xp = backend.xp

    def E(p, x_t, h_prev):
        state, _ = rnn.step_forward(p, x_t, rnn.State(h_prev), f_h)
        return xp.sum(dh * state.h)

    hidden = {k: params[k] for k in rnn.HIDDEN}
    _, cache = rnn.step_forward(hidden, x[0, ...], rnn.State(h0), f_h)
    dx, dh_prev, grads = rnn.step_backward(hidden, dh, cache)
    assert_gradients_close(check_gradients(
        lambda p: E(p, x[0, ...], h0), hidden, grads), STEP_TOL)
    assert relative_error(dx, numerical_gradient(
        lambda v: E(hidden, v, h0), x[0, ...])) < STEP_TOL
    assert relative_error(dh_prev, numerical_gradient(
        lambda v: E(hidden, x[0, ...], v), h0)) < STEP_TOL


@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2),
                                   (5, 1, 3, 1, 2)],
                         ids=["T=B=H=1", "T=1", "B=1,H=1"])
def test_edge_shapes(backend, shape):
    T, batch, D, H, K = shape
    params, x, h0, y = setup(T, batch, D, H, K, seed=7)
    loss, dz_s, cache = loss_and_dz(params, x, h0, y, "tanh", "identity")
    o, final, _ = rnn.forward(params, x, h0)
    assert tuple(o.shape) == (T, batch, K)
    assert tuple(final.h.shape) == (batch, H)
    back = rnn.backward(params, dz_s, cache)
    assert tuple(back.dx.shape) == (T, batch, D)
    assert_gradients_close(check_gradients(
        lambda p: loss_and_dz(p, x, h0, y, "tanh", "identity")[0],
        params, back.grads), SEQ_TOL)


def test_forward_matches_the_lecture_equations(backend):
    """RNNRUN against the equations written with column vectors."""
    params, x, h0, _ = setup(T=3, batch=2, seed=8)
    o, final, cache = rnn.forward(params, x, h0, "tanh", "softmax")
    p = {k: B.to_numpy(v) for k, v in params.items()}
    xs, h = B.to_numpy(x), B.to_numpy(h0)
    for t in range(3):
        for b in range(2):
            z_h = p["W_e"] @ xs[t, b] + p["W_h"] @ h[b] + p["b_e"]
            h_new = np.tanh(z_h)
            z_s = p["W_s"] @ h_new + p["b_s"]
            o_tb = np.exp(z_s) / np.exp(z_s).sum()
            np.testing.assert_allclose(B.to_numpy(o)[t, b], o_tb,
                                       rtol=1e-12)
            np.testing.assert_allclose(B.to_numpy(cache.hs)[t + 1, b],
                                       h_new, rtol=1e-12)
            h = h.copy()
            h[b] = h_new
    np.testing.assert_allclose(B.to_numpy(final.h), h, rtol=1e-12)


def test_backward_does_not_modify_inputs(backend):
    params, x, h0, y = setup(seed=9)
    loss, dz_s, cache = loss_and_dz(params, x, h0, y, "tanh", "identity")
    before = [B.to_numpy(a).copy() for a in (dz_s, cache.x, cache.hs)]
    kept = {k: B.to_numpy(v).copy() for k, v in params.items()}
    rnn.backward(params, dz_s, cache)
    for a, b in zip(before, (dz_s, cache.x, cache.hs)):
        np.testing.assert_array_equal(a, B.to_numpy(b))
    for k in params:
        np.testing.assert_array_equal(kept[k], B.to_numpy(params[k]))


def test_stacked_layers_gradient_check(backend):
    rng = np.random.default_rng(10)
    params = rnn.init_stack(2, [4, 3], 2, rng)
    params = {k: v + B.asarray(rng.normal(0, 0.1, tuple(v.shape)))
              for k, v in params.items()}  # non-zero biases too
    assert sorted(params) == sorted(["W_e_1", "W_h_1", "b_e_1", "W_e_2",
                                     "W_h_2", "b_e_2", "W_s", "b_s"])
    assert tuple(params["W_e_2"].shape) == (3, 4)
    x = B.asarray(rng.normal(size=(3, 2, 2)))
    h0s = [B.zeros((2, 4)), B.zeros((2, 3))]
    y = B.asarray(rng.normal(size=(3, 2, 2)))

    def E(p):
        return losses.mse(rnn.stack_forward(p, x, h0s)[0], y).loss

    o, finals, caches = rnn.stack_forward(params, x, h0s)
    back = rnn.stack_backward(params, losses.mse(o, y).grad, caches)
    assert [tuple(d.shape) for d in back.dh0] == [(2, 4), (2, 3)]
    assert_gradients_close(check_gradients(E, params, back.grads), SEQ_TOL)


def test_stack_input_checks(backend):
    params = rnn.init_stack(2, [3, 3], 2, 0)
    assert rnn.num_layers(params) == 2
    x = B.zeros((4, 1, 2))
    with pytest.raises(ValueError, match="2 layers but h0s has 1"):
        rnn.stack_forward(params, x, [B.zeros((1, 3))])
    o, _, caches = rnn.stack_forward(params, x, [B.zeros((1, 3))] * 2)
    with pytest.raises(ValueError, match=r"dz_s must have shape \(4, 1, 2\)"):
        rnn.stack_backward(params, B.zeros((4, 2)), caches)
    with pytest.raises(ValueError, match="no stacked layer"):
        rnn.num_layers(rnn.init_params(2, 3, 2, 0))


def test_identity_recurrent_init(backend):
    p = rnn.init_params(2, 3, 1, 0, recurrent="identity")
    np.testing.assert_array_equal(B.to_numpy(p["W_h"]), np.eye(3))


def test_bad_input_named(backend):
    params, x, h0, y = setup()
    with pytest.raises(ValueError, match=r"x has D = 3 features.*D = 2"):
        rnn.forward(params, B.zeros((4, 3, 3)), h0)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 5\)"):
        rnn.forward(params, x, B.zeros((2, 5)))
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        rnn.forward(params, B.zeros((3, 2)), h0)
    with pytest.raises(ValueError, match="f_h must be one of"):
        rnn.forward(params, x, h0, f_h="softmax")
    with pytest.raises(ValueError, match="f_s must be one of"):
        rnn.forward(params, x, h0, f_s="relu")
    with pytest.raises(ValueError, match="recurrent must be one of"):
        rnn.init_params(2, 3, 1, 0, recurrent="random")
    _, _, cache = rnn.forward(params, x, h0)
    with pytest.raises(ValueError, match=r"dz_s must have shape"):
        rnn.backward(params, B.zeros((4, 3, 2)), cache)
    with pytest.raises(ValueError, match="has T = 0"):
        rnn.forward(params, B.zeros((0, 3, 2)), h0)
