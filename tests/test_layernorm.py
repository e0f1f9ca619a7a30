"""companion.layernorm: a layer-normalised Elman layer, gradient-checked."""

import numpy as np
import pytest

from companion import backend as B
from companion import bptt, layernorm, optim, rnn
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 numerical_gradient, relative_error)

TOL = 1e-7


def setup(T=4, batch=3, D=2, H=5, K=2, seed=0):
    rng = np.random.default_rng(seed)
    params = layernorm.init_params(D, H, K, rng, recurrent="xavier")
    # gains and biases away from 1 and 0, so that every term is exercised
    params["g"] = B.asarray(rng.uniform(0.5, 1.5, H))
    params["b_e"] = B.asarray(rng.normal(0, 0.3, H))
    x = B.asarray(rng.normal(size=(T, batch, D)))
    h0 = B.asarray(rng.normal(0, 0.5, (batch, H)))
    y = B.asarray(rng.normal(size=(T, batch, K)))
    return params, x, h0, y


def loss(params, x, h0, y, f_h="tanh"):
    o, _, cache = layernorm.forward(params, x, h0, f_h)
    xp = B.namespace(o)
    return 0.5 * xp.sum((o - y) ** 2), o - y, cache


def test_normalise_zero_mean_unit_variance(backend):
    a = B.asarray(np.random.default_rng(1).normal(3, 5, (4, 6)))
    xp = backend.xp
    z, _ = layernorm.normalise(a, xp.ones(6, dtype=a.dtype,
                                          device=B.device(a)), 0.0, eps=0.0)
    z = B.to_numpy(z)
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(z.var(axis=1), 1, rtol=1e-12)


def test_normalise_backward_gradient_check(backend):
    rng = np.random.default_rng(2)
    a = B.asarray(rng.normal(size=(3, 5)))
    g = B.asarray(rng.uniform(0.5, 1.5, 5))
    b = B.asarray(rng.normal(size=5))
    w = B.asarray(rng.normal(size=(3, 5)))
    xp = backend.xp

    def E(a, g, b):
        return xp.sum(w * layernorm.normalise(a, g, b)[0])

    _, norm = layernorm.normalise(a, g, b)
    da, dg, db = layernorm.normalise_backward(w, g, norm)
    for mine, num in ((da, numerical_gradient(lambda v: E(v, g, b), a)),
                      (dg, numerical_gradient(lambda v: E(a, v, b), g)),
                      (db, numerical_gradient(lambda v: E(a, g, v), b))):
        assert relative_error(mine, num) < TOL


@pytest.mark.parametrize("f_h", rnn.HIDDEN_ACTIVATIONS)
def test_backward_gradient_check(backend, f_h):
    # seeds whose pre-activations all lie 0.02 or more from ReLU's kink
    params, x, h0, y = setup(seed={"tanh": 3, "relu": 7, "sigmoid": 11}[f_h])
    _, dz_s, cache = loss(params, x, h0, y, f_h)
    back = layernorm.backward(params, dz_s, cache)
    assert list(back.grads) == list(params)
    assert_gradients_close(check_gradients(
        lambda p: loss(p, x, h0, y, f_h)[0], params, back.grads), TOL)
    num_x = numerical_gradient(lambda v: loss(params, v, h0, y, f_h)[0], x)
    num_h0 = numerical_gradient(lambda v: loss(params, x, v, y, f_h)[0], h0)
    assert relative_error(back.dx, num_x) < TOL
    assert relative_error(back.dh0, num_h0) < TOL


def test_pre_activations_are_normalised(backend):
    params, x, h0, _ = setup(seed=6)
    params["g"] = params["g"] * 0 + 1
    params["b_e"] = params["b_e"] * 0
    _, cache = layernorm.hidden_forward(params, x, h0, "relu")
    hats = B.to_numpy(cache.a_hat)
    np.testing.assert_allclose(hats.mean(axis=-1), 0, atol=1e-12)
    # var(â) = σ² / (σ² + ε) = 1 - ε / (σ² + ε)
    inv_var = B.to_numpy(cache.inv_std)[..., 0] ** 2
    np.testing.assert_allclose(hats.var(axis=-1),
                               1 - layernorm.EPS * inv_var, rtol=1e-12)
    # with g = 1 and b_e = 0, a ReLU layer outputs max(â, 0)
    hs, _ = layernorm.hidden_forward(params, x, h0, "relu")
    np.testing.assert_allclose(B.to_numpy(hs), np.maximum(hats, 0),
                               atol=1e-15)


def test_invariant_to_scaling_the_weights(backend):
    """LN removes the scale of the summed inputs: W -> 5 W leaves h."""
    params, x, h0, _ = setup(seed=7)
    big = dict(params, W_e=5 * params["W_e"], W_h=5 * params["W_h"])
    hs1, _ = layernorm.hidden_forward(params, x, h0)
    hs5, _ = layernorm.hidden_forward(big, x, h0)
    # up to ε: σ² + ε against 25 σ² + ε
    np.testing.assert_allclose(B.to_numpy(hs5), B.to_numpy(hs1),
                               atol=1e-3)
    assert np.abs(B.to_numpy(hs5) - B.to_numpy(hs1)).max() > 0


def test_trains_with_bptt(backend):
    params, x, h0, y = setup(T=5, batch=4, seed=8)
    batches = [(x, y)] * 30
    _, hist = bptt.train(params, batches, optim.Adam(0.02), objective="mse",
                         model=layernorm, progress=False)
    assert hist.loss[-1] < 0.5 * hist.loss[0]


def test_bad_input():
    params, x, h0, _ = setup()
    with pytest.raises(ValueError, match="'g'"):
        layernorm.hidden_forward({k: v for k, v in params.items()
                                  if k != "g"}, x, h0)
    with pytest.raises(ValueError, match="g must have shape"):
        layernorm.hidden_forward(dict(params, g=params["g"][:2]), x, h0)
    with pytest.raises(ValueError, match="h0"):
        layernorm.hidden_forward(params, x, h0[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        layernorm.forward(params, x * float("nan"), h0)
    with pytest.raises(ValueError, match="dz_s"):
        _, _, cache = layernorm.forward(params, x, h0)
        layernorm.backward(params, x[..., :1], cache)


def test_state_gradient_norms_match_the_backward_pass(backend):
    params, x, h0, _ = setup(T=5, seed=9)
    _, cache = layernorm.hidden_forward(params, x, h0)
    dh_T = B.asarray(np.random.default_rng(10).normal(size=(3, 5)))
    norms = layernorm.state_gradient_norms(params, dh_T, cache)
    assert norms.shape == (6, 3)
    np.testing.assert_allclose(norms[5], np.linalg.norm(B.to_numpy(dh_T),
                                                        axis=1))
    for t in (0, 2):  # ∂E/∂h(t) by running the backward from step t on
        sub = layernorm.hidden_forward(params, x[t:, ...],
                                       cache.hs[t, ...])[1]
        back = layernorm.hidden_backward(
            params, B.asarray(np.zeros((5 - t, 3, 5))), sub, dh_T)
        np.testing.assert_allclose(
            norms[t], np.linalg.norm(B.to_numpy(back.dh0), axis=1),
            rtol=1e-12)
