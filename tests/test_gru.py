"""companion.gru: both conventions gradient-checked on every backend.

Float64 central differences for every parameter, x and h(0) (step and
sequence, one layer and a stack), the forward pass against the equations
written with column vectors, the claims of chapter 6 on the two
conventions (negated update-gate parameters swap the update rules; the
reset placement agrees only for a diagonal U_h), the bptt drivers with
``model=gru``, and clear errors for bad input. Parity with torch.nn.GRU
and with a torch-autograd version of the lecture equations is in
``test_gru_torch.py``.
"""

import numpy as np
import pytest

from companion import backend as B
from companion import bptt, gru, losses, optim
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 numerical_gradient, relative_error)

SEQ_TOL, STEP_TOL = 1e-6, 1e-7


def setup(convention, T=4, batch=3, D=2, H=5, K=3, seed=0):
    """Params with every entry perturbed (non-zero biases), x, h0, y."""
    rng = np.random.default_rng(seed)
    params = gru.init_params(D, H, K, rng, convention=convention)
    params = {k: v + B.asarray(rng.normal(0, 0.3, tuple(v.shape)))
              for k, v in params.items()}
    x = B.asarray(rng.normal(size=(T, batch, D)))
    h0 = B.asarray(rng.normal(0, 0.5, (batch, H)))
    y = B.asarray(rng.normal(size=(T, batch, K)))
    return params, x, h0, y


def loss(params, x, h0, y, f_h="tanh"):
    o, _, _ = gru.forward(params, x, h0, f_h)
    return losses.mse(o, y).loss


def backward(params, x, h0, y, f_h="tanh"):
    o, _, cache = gru.forward(params, x, h0, f_h)
    return gru.backward(params, losses.mse(o, y).grad, cache)


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
@pytest.mark.parametrize("f_h", ["tanh", "sigmoid"])
def test_sequence_gradient_check(backend, convention, f_h):
    params, x, h0, y = setup(convention, seed=1 + len(f_h))
    back = backward(params, x, h0, y, f_h)
    assert list(back.grads) == list(params)
    assert list(params) == list(gru.KEYS[convention]) + ["W_s", "b_s"]
    for k in params:
        assert tuple(back.grads[k].shape) == tuple(params[k].shape), k
        assert back.grads[k].dtype == params[k].dtype, k
    assert tuple(back.dx.shape) == tuple(x.shape)
    assert tuple(back.dh0.shape) == tuple(h0.shape)
    assert_gradients_close(check_gradients(
        lambda p: loss(p, x, h0, y, f_h), params, back.grads), SEQ_TOL)
    num_x = numerical_gradient(lambda v: loss(params, v, h0, y, f_h), x)
    num_h0 = numerical_gradient(lambda v: loss(params, x, v, y, f_h), h0)
    assert relative_error(back.dx, num_x) < SEQ_TOL
    assert relative_error(back.dh0, num_h0) < SEQ_TOL


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_step_backward_gradient_check(backend, convention):
    params, x, h0, _ = setup(convention, T=1, seed=3)
    hidden = {k: params[k] for k in gru.KEYS[convention]}
    dh = B.asarray(np.random.default_rng(4).normal(size=(3, 5)))
    xp = backend.xp

    def E(p, x_t, h_prev):
        state, _ = gru.step_forward(p, x_t, gru.State(h_prev))
        return xp.sum(dh * state.h)

    _, cache = gru.step_forward(hidden, x[0, ...], gru.State(h0))
    dx, dh_prev, grads = gru.step_backward(hidden, dh, cache)
    assert list(grads) == list(hidden)
    assert tuple(dx.shape) == (3, 2) and tuple(dh_prev.shape) == (3, 5)
    assert_gradients_close(check_gradients(
        lambda p: E(p, x[0, ...], h0), hidden, grads), STEP_TOL)
    assert relative_error(dx, numerical_gradient(
        lambda v: E(hidden, v, h0), x[0, ...])) < STEP_TOL
    assert relative_error(dh_prev, numerical_gradient(
        lambda v: E(hidden, x[0, ...], v), h0)) < STEP_TOL


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2),
                                   (5, 1, 3, 1, 2)],
                         ids=["T=B=H=1", "T=1", "B=1,H=1"])
def test_edge_shapes(backend, convention, shape):
    T, batch, D, H, K = shape
    params, x, h0, y = setup(convention, T, batch, D, H, K, seed=7)
    o, final, cache = gru.forward(params, x, h0)
    assert tuple(o.shape) == (T, batch, K) and o.dtype == x.dtype
    assert tuple(final.h.shape) == (batch, H)
    assert tuple(cache.hs.shape) == (T + 1, batch, H)
    back = backward(params, x, h0, y)
    assert tuple(back.dx.shape) == (T, batch, D)
    assert_gradients_close(check_gradients(
        lambda p: loss(p, x, h0, y), params, back.grads), SEQ_TOL)
    assert relative_error(back.dh0, numerical_gradient(
        lambda v: loss(params, x, v, y), h0)) < SEQ_TOL


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_forward_matches_the_equations(backend, convention):
    """Each step against the module docstring's equations, one column
    vector at a time, on the host."""
    params, x, h0, _ = setup(convention, T=3, batch=2, seed=8)
    o, final, cache = gru.forward(params, x, h0)
    p = {k: B.to_numpy(v) for k, v in params.items()}
    xs, h = B.to_numpy(x), B.to_numpy(h0).copy()
    for t in range(3):
        for b in range(2):
            X, hp = xs[t, b], h[b].copy()
            z = sig(p["W_z"] @ X + p["U_z"] @ hp + p["b_z"])
            r = sig(p["W_r"] @ X + p["U_r"] @ hp + p["b_r"])
            if convention == "lecture":
                c = np.tanh(p["W_h"] @ X + p["U_h"] @ (r * hp) + p["b_h"])
                h[b] = (1 - z) * hp + z * c
            else:
                c = np.tanh(p["W_h"] @ X + p["b_in"]
                            + r * (p["U_h"] @ hp + p["b_hn"]))
                h[b] = (1 - z) * c + z * hp
            np.testing.assert_allclose(B.to_numpy(cache.hs)[t + 1, b],
                                       h[b], rtol=1e-12)
            np.testing.assert_allclose(
                B.to_numpy(o)[t, b], p["W_s"] @ h[b] + p["b_s"], rtol=1e-12)
    np.testing.assert_allclose(B.to_numpy(final.h), h, rtol=1e-12)


def to_pytorch_form(p, negate_z=True):
    """Lecture params as pytorch-convention params: z negated (or not),
    b_in = b_h, b_hn = 0; W_h, U_h and the reset gate unchanged."""
    xp = B.namespace(p["b_h"])
    sign = -1.0 if negate_z else 1.0
    q = {k: (sign * v if k in ("W_z", "U_z", "b_z") else v)
         for k, v in p.items() if k != "b_h"}
    q["b_in"], q["b_hn"] = p["b_h"], xp.zeros_like(p["b_h"])
    return q


@pytest.mark.parametrize("diagonal", [True, False])
@pytest.mark.parametrize("negate_z", [True, False])
def test_conventions_reparameterization(backend, diagonal, negate_z):
    """Same function iff z is negated and U_h is diagonal (then
    r ∘ (U_h h) = U_h (r ∘ h)); otherwise clearly different."""
    params, x, h0, _ = setup("lecture", T=6, seed=9)
    if diagonal:
        xp = backend.xp
        params["U_h"] = params["U_h"] * xp.eye(5, dtype=x.dtype,
                                               device=B.device(x))
    a, _, _ = gru.forward(params, x, h0)
    b, _, _ = gru.forward(to_pytorch_form(params, negate_z), x, h0)
    gap = float(np.max(np.abs(B.to_numpy(a) - B.to_numpy(b))))
    if diagonal and negate_z:
        assert gap < 1e-14
    else:
        assert gap > 1e-3


def test_reset_always_one_makes_placement_irrelevant(backend):
    """With r ≡ 1 (b_r = +40: σ = 1 in float64) and b_hn = 0, the two
    candidates coincide for a full U_h."""
    params, x, h0, _ = setup("lecture", T=5, seed=10)
    params["W_r"] = params["W_r"] * 0.0
    params["U_r"] = params["U_r"] * 0.0
    params["b_r"] = params["b_r"] * 0.0 + 40.0
    a, _, _ = gru.forward(params, x, h0)
    b, _, _ = gru.forward(to_pytorch_form(params), x, h0)
    np.testing.assert_allclose(B.to_numpy(a), B.to_numpy(b), rtol=0,
                               atol=1e-14)


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_backward_does_not_modify_inputs(backend, convention):
    params, x, h0, y = setup(convention, seed=11)
    o, _, cache = gru.forward(params, x, h0)
    dz = losses.mse(o, y).grad
    kept = [B.to_numpy(a).copy() for a in (dz,) + tuple(cache[:6])]
    kept_p = {k: B.to_numpy(v).copy() for k, v in params.items()}
    gru.backward(params, dz, cache)
    for a, b in zip(kept, (dz,) + tuple(cache[:6])):
        np.testing.assert_array_equal(a, B.to_numpy(b))
    for k in params:
        np.testing.assert_array_equal(kept_p[k], B.to_numpy(params[k]))


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_stacked_layers_gradient_check(backend, convention):
    rng = np.random.default_rng(12)
    params = gru.init_stack(2, [4, 3], 2, rng, convention=convention)
    params = {k: v + B.asarray(rng.normal(0, 0.2, tuple(v.shape)))
              for k, v in params.items()}
    assert gru.num_layers(params) == 2
    assert tuple(params["W_z_2"].shape) == (3, 4)
    assert list(gru.layer(params, 2)) == list(gru.KEYS[convention])
    x = B.asarray(rng.normal(size=(3, 2, 2)))
    h0s = [B.asarray(rng.normal(0, 0.5, (2, 4))),
           B.asarray(rng.normal(0, 0.5, (2, 3)))]
    y = B.asarray(rng.normal(size=(3, 2, 2)))

    def E(p, x=x, h0s=h0s):
        return losses.mse(gru.stack_forward(p, x, h0s)[0], y).loss

    o, finals, caches = gru.stack_forward(params, x, h0s)
    assert [tuple(s.h.shape) for s in finals] == [(2, 4), (2, 3)]
    back = gru.stack_backward(params, losses.mse(o, y).grad, caches)
    assert list(back.grads) == list(params)
    assert [tuple(d.shape) for d in back.dh0] == [(2, 4), (2, 3)]
    assert_gradients_close(check_gradients(E, params, back.grads), SEQ_TOL)
    assert relative_error(back.dx, numerical_gradient(
        lambda v: E(params, v), x)) < SEQ_TOL
    for l in range(2):
        def E_l(v, l=l):
            return E(params, x, [v if i == l else h for i, h in
                                 enumerate(h0s)])
        assert relative_error(back.dh0[l], numerical_gradient(
            E_l, h0s[l])) < SEQ_TOL


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_parameter_count(backend, convention):
    for D, H, K in ((1, 1, 1), (3, 5, 2), (10, 20, None)):
        p = gru.init_params(D, H, K, 0, convention=convention)
        assert gru.parameter_count(D, H, K, convention) == \
            sum(int(np.prod(v.shape)) for v in p.values())
    assert gru.parameter_count(2, 3, 4, "lecture") == 3 * (6 + 9 + 3) + 16
    assert gru.parameter_count(2, 3, 4, "pytorch") == 3 * (6 + 9 + 3) + 19


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_init_params(backend, convention):
    p = gru.init_params(3, 4, 2, 0, convention=convention)
    assert list(p) == list(gru.KEYS[convention]) + ["W_s", "b_s"]
    for k, v in p.items():
        want = {"W": (4, 3), "U": (4, 4), "b": (4,)}[k[0]]
        want = {"W_s": (2, 4), "b_s": (2,)}.get(k, want)
        assert tuple(v.shape) == want, k
        assert v.dtype == backend.float_dtype, k
    U = B.to_numpy(p["U_h"])
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-12)
    assert gru.convention(p) == convention


# -- the bptt drivers with model=gru --------------------------------------


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_truncated_with_length_T_is_full_bptt(backend, convention):
    rng = np.random.default_rng(13)
    params = gru.init_params(3, 4, 3, rng, convention=convention)
    x = B.asarray(rng.normal(size=(6, 2, 3)))
    y = B.asarray(rng.integers(0, 3, (6, 2)))
    h0 = B.asarray(rng.normal(0, 0.5, (2, 4)))
    full = bptt.full_bptt(params, x, y, h0, model=gru)
    for stride in (6, 2):
        trunc = bptt.truncated_bptt(params, x, y, h0, 6, stride, model=gru)
        assert trunc.loss == pytest.approx(full.loss, rel=1e-12)
        assert list(trunc.grads) == list(params)
        for k in params:
            np.testing.assert_allclose(B.to_numpy(trunc.grads[k]),
                                       B.to_numpy(full.grads[k]),
                                       rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(B.to_numpy(trunc.final),
                                   B.to_numpy(full.final), rtol=1e-12)
    assert_gradients_close(check_gradients(
        lambda p: bptt.full_bptt(p, x, y, h0, model=gru).loss, params,
        full.grads), SEQ_TOL)


def hello_batches():
    chars = "helo"
    idx = np.array([chars.index(c) for c in "hello"])
    x = B.asarray(np.eye(4)[idx[:-1]][:, None, :])  # (4, 1, 4)
    y = B.asarray(idx[1:][:, None])                 # (4, 1)
    return x, y


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_train_learns_hello(backend, convention):
    x, y = hello_batches()
    params = gru.init_params(4, 8, 4, 0, convention=convention)
    new, hist = bptt.train(params, [(x, y)] * 150, optim.Adam(0.05),
                           clip=5.0, progress=False, model=gru)
    assert len(hist.loss) == 150
    assert hist.loss[0] > 1.0 and hist.loss[-1] < 0.05
    o, _, _ = gru.forward(new, x, B.zeros((1, 8)), "tanh", "softmax")
    assert B.to_numpy(o).argmax(-1)[:, 0].tolist() == [1, 2, 2, 3]  # ello
    out = bptt.sample(new, [0], 4, 0, temperature=1e-3, model=gru)
    assert "".join("helo"[i] for i in [0] + out) == "hello"


def test_zero_state_and_state_at(backend):
    params, x, h0, _ = setup("lecture")
    h = gru.zero_state(params, 3, x)
    assert tuple(h.shape) == (3, 5) and h.dtype == x.dtype
    assert float(backend.xp.sum(backend.xp.abs(h))) == 0.0
    hs, cache = gru.hidden_forward(params, x, h0)
    np.testing.assert_array_equal(B.to_numpy(gru.state_at(cache, 0)),
                                  B.to_numpy(h0))
    np.testing.assert_array_equal(B.to_numpy(gru.state_at(cache, 4)),
                                  B.to_numpy(hs[-1, ...]))


def test_bad_input_named(backend):
    params, x, h0, y = setup("lecture")
    with pytest.raises(ValueError, match=r"x has D = 3 features.*D = 2"):
        gru.forward(params, B.zeros((4, 3, 3)), h0)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 5\)"):
        gru.forward(params, x, B.zeros((2, 5)))
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        gru.forward(params, B.zeros((3, 2)), h0)
    with pytest.raises(ValueError, match="has T = 0"):
        gru.forward(params, B.zeros((0, 3, 2)), h0)
    with pytest.raises(ValueError, match="f_h must be one of"):
        gru.forward(params, x, h0, f_h="softmax")
    with pytest.raises(ValueError, match="f_h must be one of"):
        gru.step_forward(params, x[0, ...], gru.State(h0), f_h="linear")
    with pytest.raises(ValueError, match="f_s must be one of"):
        gru.forward(params, x, h0, f_s="relu")
    with pytest.raises(ValueError, match="convention must be one of"):
        gru.init_params(2, 3, 1, 0, convention="cho")
    with pytest.raises(ValueError, match="convention must be one of"):
        gru.parameter_count(2, 3, 1, convention="keras")
    both = dict(params, b_hn=params["b_h"], b_in=params["b_h"])
    with pytest.raises(ValueError, match="either b_h .* or b_in and b_hn"):
        gru.forward(both, x, h0)
    missing = {k: v for k, v in params.items() if k != "U_r"}
    with pytest.raises(ValueError, match="params has no 'U_r'"):
        gru.forward(missing, x, h0)
    wrong = dict(params, U_z=B.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"U_z must have shape \(5, 5\)"):
        gru.forward(wrong, x, h0)
    with pytest.raises(TypeError, match="x must be a floating array"):
        gru.forward(params, B.asarray(np.ones((4, 3, 2), dtype=int)), h0)
    _, _, cache = gru.forward(params, x, h0)
    with pytest.raises(ValueError, match=r"dz_s must have shape \(4, 3, 3\)"):
        gru.backward(params, B.zeros((4, 3, 2)), cache)
    stack = gru.init_stack(2, [3, 3], 2, 0)
    with pytest.raises(ValueError, match="2 layers but h0s has 1"):
        gru.stack_forward(stack, x, [B.zeros((3, 3))])
    with pytest.raises(ValueError, match="no stacked layer"):
        gru.num_layers(params)
    with pytest.raises(ValueError, match="at least one layer"):
        gru.init_stack(2, [], 2, 0)
