"""companion.lstm: gates, cell and BPTT gradient-checked on every backend.

Every variant (plain, peepholes, coupled input and forget gates, both) is
checked by central differences in float64 for every parameter, the inputs
x, h(0) and c(0), one step (≤ 1e-7) and whole sequences (≤ 1e-6), one
layer and a stack; the forward pass is checked against the lecture's
equations written per sequence on the host; the drivers of
``companion.bptt`` run with ``model=lstm``.
"""

import numpy as np
import pytest

from companion import backend as B
from companion import bptt, losses, lstm, optim
from companion.gradcheck import (assert_gradients_close, check_gradients,
                                 numerical_gradient, relative_error)

SEQ_TOL, STEP_TOL = 1e-6, 1e-7
VARIANTS = {"plain": {}, "peephole": {"peephole": True},
            "coupled": {"coupled": True},
            "coupled+peephole": {"coupled": True, "peephole": True}}


def perturbed(params, rng, scale=0.3):
    """Every entry moved: non-zero biases and peepholes."""
    return {k: v + B.asarray(rng.normal(0, scale, tuple(v.shape)))
            for k, v in params.items()}


def setup(T=4, batch=3, D=2, H=3, K=2, seed=0, **variant):
    rng = np.random.default_rng(seed)
    params = perturbed(lstm.init_params(D, H, K, rng, **variant), rng)
    x = B.asarray(rng.normal(size=(T, batch, D)))
    s0 = lstm.State(B.asarray(rng.normal(0, 0.5, (batch, H))),
                    B.asarray(rng.normal(0, 0.5, (batch, H))))
    y = B.asarray(rng.normal(size=(T, batch, K)))
    return params, x, s0, y


def loss(params, x, s0, y, f_h="tanh"):
    o, _, cache = lstm.forward(params, x, s0, f_h)
    res = losses.mse(o, y)
    return res.loss, res.grad, cache


def check_sequence(params, x, s0, y, f_h="tanh"):
    E, dz_s, cache = loss(params, x, s0, y, f_h)
    back = lstm.backward(params, dz_s, cache)
    assert list(back.grads) == list(params)
    for k in params:
        assert tuple(back.grads[k].shape) == tuple(params[k].shape), k
        assert back.grads[k].dtype == params[k].dtype, k
    assert tuple(back.dx.shape) == tuple(x.shape)
    assert isinstance(back.dh0, lstm.State)
    assert_gradients_close(check_gradients(
        lambda p: loss(p, x, s0, y, f_h)[0], params, back.grads), SEQ_TOL)
    inputs = {"x": (x, back.dx,
                    lambda v: loss(params, v, s0, y, f_h)[0]),
              "h0": (s0.h, back.dh0.h, lambda v: loss(
                  params, x, lstm.State(v, s0.c), y, f_h)[0]),
              "c0": (s0.c, back.dh0.c, lambda v: loss(
                  params, x, lstm.State(s0.h, v), y, f_h)[0])}
    for name, (value, analytic, f) in inputs.items():
        assert tuple(analytic.shape) == tuple(value.shape), name
        err = relative_error(analytic, numerical_gradient(f, value))
        assert err < SEQ_TOL, (name, err)


@pytest.mark.parametrize("variant", VARIANTS)
def test_sequence_gradient_check(backend, variant):
    check_sequence(*setup(seed=1, **VARIANTS[variant]))


@pytest.mark.parametrize("f_h", ["relu", "sigmoid"])
def test_other_block_activations_gradient_check(backend, f_h):
    check_sequence(*setup(seed=2, peephole=True), f_h=f_h)


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_gradient_check(backend, variant):
    params, x, s0, _ = setup(T=1, seed=3, **VARIANTS[variant])
    hidden = {k: params[k] for k in lstm.hidden_keys(params)}
    rng = np.random.default_rng(4)
    a = B.asarray(rng.normal(size=(3, 3)))
    b = B.asarray(rng.normal(size=(3, 3)))
    xp = backend.xp

    def E(p, x_t, h, c):
        state, _ = lstm.step_forward(p, x_t, lstm.State(h, c))
        return xp.sum(a * state.h) + xp.sum(b * state.c)

    state, cache = lstm.step_forward(hidden, x[0, ...], s0)
    assert tuple(state.h.shape) == tuple(state.c.shape) == (3, 3)
    dx, dprev, grads = lstm.step_backward(hidden, lstm.State(a, b), cache)
    assert list(grads) == list(hidden)
    assert_gradients_close(check_gradients(
        lambda p: E(p, x[0, ...], *s0), hidden, grads), STEP_TOL)
    assert relative_error(dx, numerical_gradient(
        lambda v: E(hidden, v, *s0), x[0, ...])) < STEP_TOL
    assert relative_error(dprev.h, numerical_gradient(
        lambda v: E(hidden, x[0, ...], v, s0.c), s0.h)) < STEP_TOL
    assert relative_error(dprev.c, numerical_gradient(
        lambda v: E(hidden, x[0, ...], s0.h, v), s0.c)) < STEP_TOL


@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2),
                                   (5, 1, 3, 1, 2)],
                         ids=["T=B=H=1", "T=1", "B=1,H=1"])
def test_edge_shapes(backend, shape):
    T, batch, D, H, K = shape
    params, x, s0, y = setup(T, batch, D, H, K, seed=5, peephole=True)
    o, final, _ = lstm.forward(params, x, s0)
    assert tuple(o.shape) == (T, batch, K)
    assert tuple(final.h.shape) == tuple(final.c.shape) == (batch, H)
    check_sequence(params, x, s0, y)


def test_forward_matches_the_lecture_equations(backend):
    """Gates, cell and state, one sequence at a time, on the host."""
    for variant in VARIANTS.values():
        params, x, s0, _ = setup(T=3, batch=2, seed=6, **variant)
        o, final, cache = lstm.forward(params, x, s0, "tanh", "softmax")
        p = {k: B.to_numpy(v) for k, v in params.items()}
        xs = B.to_numpy(x)

        def sig(z):
            return 1 / (1 + np.exp(-z))

        for b in range(2):
            h, c = B.to_numpy(s0.h)[b], B.to_numpy(s0.c)[b]
            for t in range(3):
                def z(g):
                    return p[f"W_{g}"] @ xs[t, b] + p[f"U_{g}"] @ h \
                        + p[f"b_{g}"]
                f = sig(z("f") + p.get("p_f", 0) * c)
                i = (sig(z("i") + p.get("p_i", 0) * c) if "W_i" in p
                     else 1 - f)
                c = f * c + i * np.tanh(z("c"))
                gate = sig(z("o") + p.get("p_o", 0) * c)
                h = gate * np.tanh(c)
                z_s = p["W_s"] @ h + p["b_s"]
                want = np.exp(z_s) / np.exp(z_s).sum()
                np.testing.assert_allclose(B.to_numpy(o)[t, b], want,
                                           rtol=1e-12)
                np.testing.assert_allclose(B.to_numpy(cache.f)[t, b], f,
                                           rtol=1e-12)
                np.testing.assert_allclose(B.to_numpy(cache.o)[t, b],
                                           gate, rtol=1e-12)
            np.testing.assert_allclose(B.to_numpy(final.h)[b], h,
                                       rtol=1e-12)
            np.testing.assert_allclose(B.to_numpy(final.c)[b], c,
                                       rtol=1e-12)


def test_hidden_backward_with_a_gradient_at_T(backend):
    params, x, s0, _ = setup(seed=7, peephole=True)
    rng = np.random.default_rng(8)
    dh_T = B.asarray(rng.normal(size=(3, 3)))
    dc_T = B.asarray(rng.normal(size=(3, 3)))
    hidden = {k: params[k] for k in lstm.hidden_keys(params)}
    xp = backend.xp

    def E(p):
        hs, cache = lstm.hidden_forward(p, x, s0)
        last = lstm.state_at(cache, x.shape[0])
        return xp.sum(dh_T * last.h) + xp.sum(dc_T * last.c)

    hs, cache = lstm.hidden_forward(hidden, x, s0)
    back = lstm.hidden_backward(hidden, xp.zeros_like(hs), cache,
                                lstm.State(dh_T, dc_T))
    assert_gradients_close(check_gradients(E, hidden, back.grads), SEQ_TOL)


@pytest.mark.parametrize("variant", ["plain", "coupled+peephole"])
def test_stacked_layers_gradient_check(backend, variant):
    rng = np.random.default_rng(10)
    params = perturbed(lstm.init_stack(2, [3, 2], 2, rng,
                                       **VARIANTS[variant]), rng, 0.1)
    assert lstm.num_layers(params) == 2
    assert tuple(params["W_f_2"].shape) == (2, 3)
    assert tuple(params["U_c_1"].shape) == (3, 3)
    assert ("W_i_1" in params) == (variant == "plain")
    assert list(params)[-2:] == ["W_s", "b_s"]
    x = B.asarray(rng.normal(size=(3, 2, 2)))
    s0 = [lstm.State(B.asarray(rng.normal(0, .5, (2, H))),
                     B.asarray(rng.normal(0, .5, (2, H)))) for H in (3, 2)]
    y = B.asarray(rng.normal(size=(3, 2, 2)))

    def E(p, x=x, s0=s0):
        return losses.mse(lstm.stack_forward(p, x, s0)[0], y).loss

    o, finals, caches = lstm.stack_forward(params, x, s0)
    assert [tuple(s.c.shape) for s in finals] == [(2, 3), (2, 2)]
    back = lstm.stack_backward(params, losses.mse(o, y).grad, caches)
    assert list(back.grads) == list(params)
    assert_gradients_close(check_gradients(E, params, back.grads), SEQ_TOL)
    assert relative_error(back.dx, numerical_gradient(
        lambda v: E(params, x=v), x)) < SEQ_TOL
    c0 = numerical_gradient(lambda v: E(params, s0=[
        s0[0], lstm.State(s0[1].h, v)]), s0[1].c)
    assert relative_error(back.dh0[1].c, c0) < SEQ_TOL


def test_init_forget_bias_and_variants(backend):
    p = lstm.init_params(3, 4, 2, 0)
    assert list(p) == ["W_f", "U_f", "b_f", "W_i", "U_i", "b_i", "W_o",
                       "U_o", "b_o", "W_c", "U_c", "b_c", "W_s", "b_s"]
    assert tuple(p["W_o"].shape) == (4, 3) and tuple(p["U_i"].shape) == (4, 4)
    assert p["b_f"].dtype == backend.xp.float64
    np.testing.assert_array_equal(B.to_numpy(p["b_f"]), np.ones(4))
    for k in ("b_i", "b_o", "b_c", "b_s"):
        np.testing.assert_array_equal(B.to_numpy(p[k]), 0.0)
    U = B.to_numpy(p["U_f"])
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-12)
    zero = lstm.init_params(3, 4, 2, 0, forget_bias=0.0)
    np.testing.assert_array_equal(B.to_numpy(zero["b_f"]), np.zeros(4))
    peep = lstm.init_params(3, 4, None, 0, peephole=True)
    assert lstm.peepholes(peep) == ("p_f", "p_i", "p_o")
    assert "W_s" not in peep
    coupled = lstm.init_params(3, 4, 2, 0, coupled=True)
    assert lstm.gates(coupled) == ("f", "o", "c")
    assert not {"W_i", "U_i", "b_i", "p_f"} & set(coupled)
    both = lstm.init_params(3, 4, 2, 0, coupled=True, peephole=True)
    assert lstm.peepholes(both) == ("p_f", "p_o")
    # 4 (HD + H² + H) + KH + K
    assert sum(int(np.prod(v.shape)) for v in p.values()) == \
        4 * (4 * 3 + 16 + 4) + 2 * 4 + 2


def test_coupled_input_gate_is_one_minus_forget(backend):
    params, x, s0, _ = setup(seed=11, coupled=True)
    _, _, cache = lstm.forward(params, x, s0)
    np.testing.assert_allclose(B.to_numpy(cache.i),
                               1 - B.to_numpy(cache.f), rtol=1e-14)


def test_backward_does_not_modify_inputs(backend):
    params, x, s0, y = setup(seed=12, peephole=True)
    E, dz_s, cache = loss(params, x, s0, y)
    before = [B.to_numpy(a).copy() for a in (dz_s,) + tuple(cache[:-1])]
    kept = {k: B.to_numpy(v).copy() for k, v in params.items()}
    lstm.backward(params, dz_s, cache)
    for a, b in zip(before, (dz_s,) + tuple(cache[:-1])):
        np.testing.assert_array_equal(a, B.to_numpy(b))
    for k in params:
        np.testing.assert_array_equal(kept[k], B.to_numpy(params[k]))


# -- the drivers of companion.bptt with model=lstm -------------------------


def test_truncated_with_length_T_is_full_bptt(backend):
    rng = np.random.default_rng(13)
    params = perturbed(lstm.init_params(4, 3, 4, rng, peephole=True), rng)
    x = B.asarray(rng.normal(size=(6, 2, 4)))
    y = B.asarray(rng.integers(0, 4, (6, 2)))
    s0 = lstm.zero_state(params, 2, x)
    assert tuple(s0.c.shape) == (2, 3) and s0.h.dtype == x.dtype
    full = bptt.full_bptt(params, x, y, s0, model=lstm)
    for length, stride in ((6, 6), (6, 2), (9, 3)):
        trunc = bptt.truncated_bptt(params, x, y, s0, length, stride,
                                    model=lstm)
        assert trunc.loss == pytest.approx(full.loss, rel=1e-12)
        for k in params:
            np.testing.assert_allclose(B.to_numpy(trunc.grads[k]),
                                       B.to_numpy(full.grads[k]),
                                       rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B.to_numpy(trunc.final.c),
                               B.to_numpy(full.final.c), rtol=1e-12)
    # a shorter window loses gradient but keeps the loss
    short = bptt.truncated_bptt(params, x, y, s0, 2, model=lstm)
    assert short.loss == pytest.approx(full.loss, rel=1e-12)
    assert relative_error(short.grads["U_f"], full.grads["U_f"]) > 1e-6


def test_full_bptt_gradient_check_through_the_driver(backend):
    rng = np.random.default_rng(14)
    params = perturbed(lstm.init_params(3, 2, 3, rng, coupled=True), rng)
    x = B.asarray(rng.normal(size=(4, 2, 3)))
    y = B.asarray(rng.integers(0, 3, (4, 2)))
    s0 = lstm.State(B.asarray(rng.normal(size=(2, 2))),
                    B.asarray(rng.normal(size=(2, 2))))
    res = bptt.full_bptt(params, x, y, s0, model=lstm)
    assert_gradients_close(check_gradients(
        lambda p: bptt.full_bptt(p, x, y, s0, model=lstm).loss, params,
        res.grads), SEQ_TOL)


def test_train_learns_hello_and_samples_it(backend):
    idx = np.array(["helo".index(c) for c in "hello"])
    x = B.asarray(np.eye(4)[idx[:-1]][:, None, :])   # (4, 1, 4)
    y = B.asarray(idx[1:][:, None])                  # (4, 1)
    params = lstm.init_params(4, 8, 4, 0)
    new, hist = bptt.train(params, [(x, y)] * 150, optim.Adam(0.05),
                           clip=5.0, progress=False, model=lstm)
    assert len(hist.loss) == 150
    assert hist.loss[0] > 1.0 and hist.loss[-1] < 0.05
    o, _, _ = lstm.forward(new, x, lstm.zero_state(new, 1, x), "tanh",
                           "softmax")
    assert B.to_numpy(o).argmax(-1)[:, 0].tolist() == [1, 2, 2, 3]
    out = bptt.sample(new, [0], 4, 0, temperature=1e-3, model=lstm)
    assert "".join("helo"[i] for i in [0] + out) == "hello"
    np.testing.assert_array_equal(B.to_numpy(params["b_f"]), np.ones(8))


def test_train_with_windows_carries_the_cell(backend):
    idx = np.array(["helo".index(c) for c in "hello"])
    x = B.asarray(np.eye(4)[idx[:-1]][:, None, :])
    y = B.asarray(idx[1:][:, None])
    _, hist = bptt.train(lstm.init_params(4, 5, 4, 1), [(x, y)] * 2,
                         optim.SGD(0.1), window=2, clip=1e-3,
                         carry_state=True, progress=False, model=lstm)
    assert len(hist.loss) == 4 and all(hist.clipped)


# -- bad input ------------------------------------------------------------


def test_bad_input_named(backend):
    params, x, s0, y = setup()
    with pytest.raises(ValueError, match=r"x has D = 3 features.*D = 2"):
        lstm.forward(params, B.zeros((4, 3, 3)), s0)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 3\)"):
        lstm.forward(params, x, lstm.State(B.zeros((2, 3)), s0.c))
    with pytest.raises(ValueError, match=r"c0 must have shape \(3, 3\)"):
        lstm.forward(params, x, lstm.State(s0.h, B.zeros((3, 4))))
    with pytest.raises(TypeError, match=r"State\(h, c\)"):
        lstm.forward(params, x, s0.h)
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        lstm.forward(params, B.zeros((3, 2)), s0)
    with pytest.raises(ValueError, match="has T = 0"):
        lstm.forward(params, B.zeros((0, 3, 2)), s0)
    with pytest.raises(ValueError, match="f_h must be one of"):
        lstm.forward(params, x, s0, f_h="softmax")
    with pytest.raises(ValueError, match="f_s must be one of"):
        lstm.forward(params, x, s0, f_s="relu")
    with pytest.raises(ValueError, match=r"U_o must have shape \(3, 3\)"):
        lstm.forward({**params, "U_o": B.zeros((3, 2))}, x, s0)
    with pytest.raises(ValueError, match="params has no 'b_c'"):
        lstm.forward({k: v for k, v in params.items() if k != "b_c"}, x,
                     s0)
    with pytest.raises(ValueError, match="peepholes must be all of"):
        lstm.forward({**params, "p_f": B.zeros((3,))}, x, s0)
    _, _, cache = lstm.forward(params, x, s0)
    with pytest.raises(ValueError, match=r"dz_s must have shape \(4, 3, 2\)"):
        lstm.backward(params, B.zeros((4, 3, 3)), cache)
    stack = lstm.init_stack(2, [3, 3], 2, 0)
    with pytest.raises(ValueError, match="2 layers but states0 has 1"):
        lstm.stack_forward(stack, x, [s0])
    with pytest.raises(ValueError, match="no stacked layer"):
        lstm.num_layers(params)
    with pytest.raises(ValueError, match="at least one layer"):
        lstm.init_stack(2, [], 2, 0)
