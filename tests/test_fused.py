"""companion.fused: the fast sequence passes equal the readable steps.

The reference here is a loop over ``step_forward`` / ``step_backward``
(the code the chapters show), run in float64 on the same inputs; the fast
path must agree to 1e-12 relative, in every variant it serves, and hand
the other variants to the loop.
"""

import ast
import inspect

import numpy as np
import pytest

from companion import backend as B
from companion import fused, gru, lstm, rnn, stacking

# T, B, D, H; the last one spans several of the LSTM backward's chunks of
# steps (2^16 // (B n H) = 4 steps, coupled 5), the last chunk partial
SHAPES = [(1, 1, 1, 1), (5, 3, 2, 4), (7, 2, 3, 6), (9, 64, 3, 64)]


def lstm_params(D, H, rng, coupled=False, peephole=False):
    """An LSTM layer with every parameter (biases too) non-zero."""
    params = lstm.init_params(D, H, None, rng, coupled=coupled,
                              peephole=peephole)
    host = np.random.default_rng(rng)
    return {k: B.asarray(host.normal(scale=0.7, size=v.shape))
            for k, v in params.items()}


def gru_params(D, H, rng, convention):
    params = gru.init_params(D, H, None, rng, convention=convention)
    host = np.random.default_rng(rng)
    return {k: B.asarray(host.normal(scale=0.7, size=v.shape))
            for k, v in params.items()}


def inputs(T, Bn, D, H, seed, cell=False):
    rng = np.random.default_rng(seed)
    x = B.asarray(rng.normal(size=(T, Bn, D)))
    dhs = B.asarray(rng.normal(size=(T, Bn, H)))
    h0 = B.asarray(rng.normal(scale=0.5, size=(Bn, H)))
    if not cell:
        return x, dhs, h0, None
    c0 = B.asarray(rng.normal(scale=0.5, size=(Bn, H)))
    extra = (B.asarray(rng.normal(size=(Bn, H))),
             B.asarray(rng.normal(size=(Bn, H))))
    return x, dhs, lstm.State(h0, c0), lstm.State(*extra)


def assert_close(got, want, what, rtol=1e-12):
    got, want = B.to_numpy(got), B.to_numpy(want)
    assert got.shape == want.shape, f"{what}: {got.shape} vs {want.shape}"
    assert got.dtype == want.dtype, f"{what}: {got.dtype} vs {want.dtype}"
    scale = max(np.max(np.abs(want)), 1e-300)
    err = np.max(np.abs(got - want)) / scale
    assert err <= rtol, f"{what}: relative error {err:.2e} > {rtol:.0e}"


def lstm_reference(params, x, state0, dhs, dstate_T):
    """h(1..T) and every gradient by the readable steps."""
    xp = B.namespace(x)
    state, caches, hs = state0, [], []
    for t in range(x.shape[0]):
        state, cache = lstm.step_forward(params, x[t, ...], state)
        caches.append(cache)
        hs.append(state.h)
    dstate, grads, dxs = dstate_T, None, []
    for t in reversed(range(x.shape[0])):
        dx, dstate, g = lstm.step_backward(
            params, lstm.State(dhs[t, ...] + dstate.h, dstate.c), caches[t])
        grads = g if grads is None else {k: grads[k] + g[k] for k in g}
        dxs.insert(0, dx)
    return xp.stack(hs, axis=0), grads, xp.stack(dxs, axis=0), dstate


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("variant", ["standard", "coupled"])
def test_lstm_fast_path_equals_the_steps(backend, shape, variant):
    T, Bn, D, H = shape
    params = lstm_params(D, H, 3, coupled=variant == "coupled")
    x, dhs, state0, dstate_T = inputs(T, Bn, D, H, 4, cell=True)
    assert lstm._fast(params, "tanh")
    hs, cache = lstm.hidden_forward(params, x, state0)      # the fast path
    back = lstm.hidden_backward(params, dhs, cache, dstate_T)
    ref_hs, ref_grads, ref_dx, ref_d0 = lstm_reference(params, x, state0,
                                                       dhs, dstate_T)
    assert_close(hs, ref_hs, "hs")
    assert list(back.grads) == lstm.hidden_keys(params)
    for key, value in ref_grads.items():
        assert_close(back.grads[key], value, key)
    assert_close(back.dx, ref_dx, "dx")
    assert_close(back.dh0.h, ref_d0.h, "dh0")
    assert_close(back.dh0.c, ref_d0.c, "dc0")
    # the readable loop's backward follows the fast forward's cache
    for t in range(T):
        step = lstm.step_cache(cache, t)
        assert_close(step.c, cache.cs[t + 1, ...], f"c({t + 1})")


def test_lstm_dispatch(backend):
    """Peepholes and other f_h take the loop; its results are those of
    the steps (the loop and the fast path are both held to them)."""
    params = lstm_params(2, 3, 5, peephole=True)
    assert not lstm._fast(params, "tanh")
    assert not lstm._fast(lstm_params(2, 3, 5), "relu")
    x, dhs, state0, dstate_T = inputs(4, 2, 2, 3, 6, cell=True)
    hs, cache = lstm.hidden_forward(params, x, state0)
    back = lstm.hidden_backward(params, dhs, cache, dstate_T)
    ref_hs, ref_grads, _, _ = lstm_reference(params, x, state0, dhs,
                                             dstate_T)
    assert_close(hs, ref_hs, "hs")
    for key, value in ref_grads.items():
        assert_close(back.grads[key], value, key)


def test_lstm_float32_stays_float32(backend):
    f32 = backend.xp.float32

    def to32(a):
        return B.asarray(B.to_numpy(a), dtype=f32)

    params = {k: to32(v) for k, v in lstm_params(3, 4, 7).items()}
    x, dhs, state0, _ = inputs(6, 2, 3, 4, 8, cell=True)
    hs, cache = lstm.hidden_forward(params, to32(x),
                                    lstm.State(*map(to32, state0)))
    back = lstm.hidden_backward(params, to32(dhs), cache)
    assert B.to_numpy(hs).dtype == np.float32
    assert all(B.to_numpy(g).dtype == np.float32
               for g in back.grads.values())
    ref, _ = lstm.hidden_forward(lstm_params(3, 4, 7), x, state0)
    assert_close(B.asarray(B.to_numpy(hs).astype(np.float64)), ref, "hs",
                 rtol=1e-5)


def gru_reference(params, x, h0, dhs, dh_T):
    xp = B.namespace(x)
    state, caches, hs = gru.State(h0), [], []
    for t in range(x.shape[0]):
        state, cache = gru.step_forward(params, x[t, ...], state)
        caches.append(cache)
        hs.append(state.h)
    dh, grads, dxs = dh_T, None, []
    for t in reversed(range(x.shape[0])):
        dx, dh, g = gru.step_backward(params, dhs[t, ...] + dh, caches[t])
        grads = g if grads is None else {k: grads[k] + g[k] for k in g}
        dxs.insert(0, dx)
    return xp.stack(hs, axis=0), grads, xp.stack(dxs, axis=0), dh


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_gru_fast_path_equals_the_steps(backend, shape, convention):
    T, Bn, D, H = shape
    params = gru_params(D, H, 9, convention)
    x, dhs, h0, _ = inputs(T, Bn, D, H, 10)
    dh_T = B.asarray(np.random.default_rng(11).normal(size=(Bn, H)))
    hs, cache = gru.hidden_forward(params, x, h0)          # the fast path
    back = gru.hidden_backward(params, dhs, cache, dh_T)
    ref_hs, ref_grads, ref_dx, ref_dh0 = gru_reference(params, x, h0, dhs,
                                                       dh_T)
    assert_close(hs, ref_hs, "hs")
    assert list(back.grads) == list(gru.KEYS[convention])
    for key, value in ref_grads.items():
        assert_close(back.grads[key], value, key)
    assert_close(back.dx, ref_dx, "dx")
    assert_close(back.dh0, ref_dh0, "dh0")


@pytest.mark.parametrize("f_h", ["relu", "sigmoid"])
def test_gru_other_activations_take_the_loop(backend, f_h):
    params = gru_params(2, 3, 12, "lecture")
    x, dhs, h0, _ = inputs(4, 2, 2, 3, 13)
    hs, cache = gru.hidden_forward(params, x, h0, f_h)
    state = gru.State(h0)
    for t in range(4):
        state, _ = gru.step_forward(params, x[t, ...], state, f_h)
        assert_close(hs[t, ...], state.h, f"h({t + 1})")
    assert cache.f_h == f_h


def test_fast_backward_does_not_modify_the_cache(backend):
    params = lstm_params(2, 3, 14)
    x, dhs, state0, _ = inputs(5, 2, 2, 3, 15, cell=True)
    _, cache = lstm.hidden_forward(params, x, state0)
    before = {k: B.to_numpy(v).copy() for k, v in cache._asdict().items()
              if k != "f_h"}
    lstm.hidden_backward(params, dhs, cache)
    for key, value in before.items():
        np.testing.assert_array_equal(B.to_numpy(getattr(cache, key)),
                                      value, err_msg=key)


# -- mixed precision: dtypes as NumPy promotes them ----------------------


def _mixed(backend, D, H):
    """float32 x, h(0), dhs; float64 parameters."""
    f32 = backend.xp.float32
    rng = np.random.default_rng(16)

    def f32_of(shape):
        return B.asarray(rng.normal(size=shape), dtype=f32)
    return f32_of((6, 2, D)), f32_of((6, 2, H)), f32_of((2, H))


@pytest.mark.parametrize("variant", ["standard", "coupled"])
def test_lstm_mixed_precision_promotes_like_the_steps(backend, variant):
    params = lstm_params(3, 4, 17, coupled=variant == "coupled")
    x, dhs, h0 = _mixed(backend, 3, 4)
    state0 = lstm.State(h0, h0 * 0.5)
    hs, cache = lstm.hidden_forward(params, x, state0)
    back = lstm.hidden_backward(params, dhs, cache)
    f64 = backend.xp.float64
    assert hs.dtype == f64 and cache.cs.dtype == f64 and back.dx.dtype == f64
    assert back.dh0.h.dtype == f64 and back.dh0.c.dtype == f64
    ref_hs, ref_grads, ref_dx, _ = lstm_reference(
        params, x, state0, dhs,
        lstm.State(*(B.zeros((2, 4), dtype=f64) for _ in range(2))))
    assert_close(hs, ref_hs, "hs")
    assert_close(back.dx, ref_dx, "dx")
    for key, value in ref_grads.items():
        assert_close(back.grads[key], value, key)


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
def test_gru_mixed_precision_promotes_like_the_steps(backend, convention):
    params = gru_params(3, 4, 18, convention)
    x, dhs, h0 = _mixed(backend, 3, 4)
    hs, cache = gru.hidden_forward(params, x, h0)
    back = gru.hidden_backward(params, dhs, cache)
    f64 = backend.xp.float64
    assert hs.dtype == f64 and back.dx.dtype == f64
    assert back.dh0.dtype == f64
    ref_hs, ref_grads, ref_dx, _ = gru_reference(
        params, x, h0, dhs, B.zeros((2, 4), dtype=f64))
    assert_close(hs, ref_hs, "hs")
    assert_close(back.dx, ref_dx, "dx")
    for key, value in ref_grads.items():
        assert_close(back.grads[key], value, key)


def test_rnn_mixed_precision_promotes_too(backend):
    params = rnn.init_params(3, 4, None, 19)
    x, dhs, h0 = _mixed(backend, 3, 4)
    hs, cache = rnn.hidden_forward(params, x, h0)
    assert hs.dtype == backend.xp.float64


# -- one-way dependencies ----------------------------------------------


def _imported(module):
    """The companion modules ``module`` imports (at any depth)."""
    names = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.update([node.module] if node.module
                         else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            names.update(a.name.rsplit(".", 1)[-1] for a in node.names
                         if a.name.startswith("companion"))
    return names


def test_fused_and_stacking_import_no_layer():
    assert not _imported(fused) & {"lstm", "gru", "rnn"}
    assert not _imported(stacking) & {"lstm", "gru", "rnn"}


# -- bad input to the layers: one clear error naming the argument ---------


LAYERS = {"rnn": (rnn, lambda: rnn.init_params(2, 3, 1, 0),
                  lambda z: z),
          "lstm": (lstm, lambda: lstm.init_params(2, 3, 1, 0),
                   lambda z: lstm.State(z, z)),
          "gru": (gru, lambda: gru.init_params(2, 3, 1, 0),
                  lambda z: z)}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_name_bad_input(backend, name):
    """forward and stack_forward check the data; hidden_forward its
    shapes (a state that diverges in training is not an input error)."""
    model, make, state = LAYERS[name]
    params, s0 = make(), state(B.zeros((1, 3)))
    with pytest.raises(TypeError, match=r"^x must be an array, got list"):
        model.forward(params, [[[0.0, 0.0]]], s0)
    with pytest.raises(TypeError, match=r"^x must be an array, got list"):
        model.hidden_forward(params, [[[0.0, 0.0]]], s0)
    bad = np.zeros((4, 1, 2))
    bad[2, 0, 1] = np.nan
    with pytest.raises(ValueError, match=r"^x holds 1 NaN or infinite"):
        model.forward(params, B.asarray(bad), s0)
    bad[2, 0, 1] = np.inf
    with pytest.raises(ValueError, match=r"^x holds 1 NaN or infinite"):
        model.forward(params, B.asarray(bad), s0)
    stack = model.init_stack(2, [3, 3], 1, 0)
    with pytest.raises(ValueError, match=r"^x holds 1 NaN or infinite"):
        model.stack_forward(stack, B.asarray(bad), [s0, s0])
    with pytest.raises(ValueError, match=r"^x must have 3 dimensions, got "
                                         r"shape \(2,\)"):
        model.forward(params, B.asarray(np.zeros(2)), s0)
    with pytest.raises(ValueError, match=r"T = 0"):
        model.forward(params, B.asarray(np.zeros((0, 1, 2))), s0)
