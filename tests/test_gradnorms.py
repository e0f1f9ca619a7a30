"""companion.gradnorms: Jacobians of the recurrence and gradient norms."""

import numpy as np
import pytest

from companion import backend as B
from companion import gradnorms, init, losses, rnn


def net(H=4, D=3, K=2, seed=0, f_h="tanh", T=6, n=2):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(D, H, K, rng, recurrent="xavier")
    params["b_e"] = B.asarray(rng.normal(0, 0.3, H))
    x = B.asarray(rng.normal(size=(T, n, D)))
    h0 = B.asarray(rng.normal(0, 0.3, (n, H)))
    return params, x, h0


def numerical_state_jacobian(params, x, h0, f_h, t0):
    """∂h(T)/∂h(t0) by central differences, restarting at step t0."""
    _, cache = rnn.hidden_forward(params, x, h0, f_h)
    hs = B.to_numpy(cache.hs)
    H = hs.shape[2]
    out = np.zeros((hs.shape[1], H, H))
    for j in range(H):
        e = np.zeros(H)
        e[j] = 1e-6
        ends = []
        for sign in (1, -1):
            start = B.asarray(hs[t0] + sign * e)
            hT, _ = rnn.hidden_forward(params, x[t0:, ...], start, f_h)
            ends.append(B.to_numpy(hT)[-1])
        out[:, :, j] = (ends[0] - ends[1]) / 2e-6
    return out


@pytest.mark.parametrize("f_h", ["tanh", "sigmoid", "relu"])
def test_step_jacobian_matches_differences(backend, f_h):
    params, x, h0 = net(f_h=f_h, T=1, seed=1)
    _, cache = rnn.hidden_forward(params, x, h0, f_h)
    J = gradnorms.step_jacobian(params["W_h"], cache.hs[1, ...], f_h)
    assert tuple(J.shape) == (2, 4, 4) and J.dtype == backend.float_dtype
    want = numerical_state_jacobian(params, x, h0, f_h, 0)
    np.testing.assert_allclose(B.to_numpy(J), want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f_h", ["tanh", "relu"])
def test_jacobian_norms_are_those_of_the_product(backend, f_h):
    params, x, h0 = net(f_h=f_h, T=5, seed=2)
    norms = gradnorms.forward_jacobian_norms(params, x, h0, f_h)
    assert isinstance(norms, np.ndarray) and norms.shape == (5, 2)
    for lag in (1, 3, 5):
        J = numerical_state_jacobian(params, x, h0, f_h, 5 - lag)
        want = np.linalg.norm(J, ord=2, axis=(-2, -1))
        np.testing.assert_allclose(norms[lag - 1], want, rtol=1e-6)


def test_edge_case_T_B_H_one(backend):
    params, x, h0 = net(H=1, D=1, K=1, T=1, n=1, seed=3)
    norms = gradnorms.forward_jacobian_norms(params, x, h0)
    h1 = B.to_numpy(rnn.hidden_forward(params, x, h0)[0])[0, 0, 0]
    w = B.to_numpy(params["W_h"])[0, 0]
    assert norms.shape == (1, 1)
    assert norms[0, 0] == pytest.approx(abs((1 - h1 ** 2) * w), rel=1e-12)


@pytest.mark.parametrize("f_h, sigma", [("tanh", 0.9), ("sigmoid", 3.6),
                                        ("relu", 0.9)])
def test_pascanu_bound_holds(backend, f_h, sigma):
    """‖∂h(T)/∂h(T-ℓ)‖ ≤ (γ σ_max)^ℓ, γ = 1 (tanh, ReLU), 1/4 (sigmoid)."""
    params, x, h0 = net(H=8, T=20, n=3, seed=4, f_h=f_h)
    W = B.to_numpy(params["W_h"])
    params["W_h"] = B.asarray(W * sigma / np.linalg.norm(W, ord=2))
    norms = gradnorms.forward_jacobian_norms(params, x, h0, f_h)
    bound = gradnorms.jacobian_bound(params["W_h"], f_h, np.arange(1, 21))
    assert bound[0] == pytest.approx(gradnorms.GAMMA[f_h] * sigma)
    assert (norms <= bound[:, None] * (1 + 1e-12)).all()
    assert bound[-1] < 0.15  # below 1/γ: vanishing is guaranteed


def test_identity_relu_network_keeps_the_norm(backend):
    """W_h = I with active ReLU units: every Jacobian is I, norm 1."""
    rng = np.random.default_rng(5)
    params = {"W_e": B.asarray(rng.uniform(0.1, 1, (3, 2))),
              "W_h": init.identity(3), "b_e": B.zeros((3,))}
    x = B.asarray(rng.uniform(0.1, 1, (12, 2, 2)))
    norms = gradnorms.forward_jacobian_norms(params, x, B.zeros((2, 3)),
                                             "relu")
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)


def test_state_gradient_norms_match_rnnback(backend):
    params, x, h0 = net(T=6, seed=6)
    hs, cache = rnn.hidden_forward(params, x, h0)
    z_s, _ = rnn.output_forward(params, hs)
    rng = np.random.default_rng(6)
    y = B.asarray(rng.normal(size=tuple(z_s.shape)))
    dhs = losses.mse(z_s, y).grad @ params["W_s"]      # part 1, (T, B, H)
    norms = gradnorms.state_gradient_norms(params, dhs, cache)
    assert isinstance(norms, np.ndarray) and norms.shape == (6, 2)
    # the same recursion on the host: dh(t) = dhs(t) + dh(t+1) J(t+1)
    W, H_all, part1 = (B.to_numpy(a) for a in (params["W_h"], cache.hs,
                                                dhs))
    dh = part1[-1]
    want = [np.linalg.norm(dh, axis=1)]
    for t in range(4, -1, -1):
        J = (1 - H_all[t + 2] ** 2)[:, :, None] * W
        dh = part1[t] + np.einsum("bi,bij->bj", dh, J)
        want.insert(0, np.linalg.norm(dh, axis=1))
    np.testing.assert_allclose(norms, np.stack(want), rtol=1e-12)
    # and dh(0) = dh(1) J(1) is RNNBACK's
    J1 = (1 - H_all[1] ** 2)[:, :, None] * W
    back = rnn.hidden_backward(params, dhs, cache)
    np.testing.assert_allclose(np.einsum("bi,bij->bj", dh, J1),
                               B.to_numpy(back.dh0), rtol=1e-12)


def test_state_gradient_norms_of_a_last_step_loss(backend):
    """A loss at the last step only: ‖∂E/∂h(T-ℓ)‖ = ‖dh(T) ∂h(T)/∂h(T-ℓ)‖
    and never more than ‖dh(T)‖ ‖∂h(T)/∂h(T-ℓ)‖₂."""
    params, x, h0 = net(T=5, seed=7)
    _, cache = rnn.hidden_forward(params, x, h0)
    host = np.zeros((5, 2, 4))
    host[-1] = np.random.default_rng(7).normal(size=(2, 4))
    norms = gradnorms.state_gradient_norms(params, B.asarray(host), cache)
    jac = gradnorms.jacobian_norms(params["W_h"], cache.hs)
    top = np.linalg.norm(host[-1], axis=1)
    np.testing.assert_allclose(norms[-1], top, rtol=1e-12)
    assert (norms[-2::-1] <= jac[:-1] * top * (1 + 1e-12)).all()


def test_bad_input():
    W = B.asarray(np.eye(3))
    with pytest.raises(ValueError, match=r"W_h must be \(H, H\)"):
        gradnorms.step_jacobian(B.asarray(np.ones((3, 2))),
                                B.asarray(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"h must be \(B, H\) with H = 3"):
        gradnorms.step_jacobian(W, B.asarray(np.ones((1, 2))))
    with pytest.raises(ValueError, match="f_h must be one of"):
        gradnorms.derivative(B.asarray(np.ones(2)), "softplus")
    with pytest.raises(ValueError, match="T >= 1"):
        gradnorms.jacobian_norms(W, B.asarray(np.ones((1, 1, 3))))
    with pytest.raises(ValueError, match="f_h must be one of"):
        gradnorms.jacobian_bound(W, "elu", 3)
