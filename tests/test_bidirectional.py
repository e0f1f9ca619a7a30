"""The bidirectional layer (companion.bidirectional) over rnn, lstm and
gru: exact gradients by finite differences for every parameter, the
input and both initial states; the symmetry of the two directions; the
model protocol (``Layer``) inside ``bptt.full_bptt``; errors."""

import numpy as np
import pytest

from companion import backend as B
from companion import bidirectional, bptt, gradcheck, gru, lstm, rnn

MODELS = {"rnn": (rnn, {}), "lstm": (lstm, {}),
          "gru": (gru, {}), "gru-pytorch": (gru, {"convention": "pytorch"})}


def _setup(name, T, B_, D, H, K, seed=0):
    """Params with non-zero biases, x, non-zero initial states, G."""
    model, options = MODELS[name]
    params = bidirectional.init_params(D, H, K, seed, model, **options)
    rng = np.random.default_rng(seed + 1)
    params = {k: v + B.asarray(rng.normal(0, 0.2, tuple(v.shape)))
              for k, v in params.items()}
    x = B.asarray(rng.standard_normal((T, B_, D)))
    G = B.asarray(rng.standard_normal((T, B_, K)))

    def state():
        h = B.asarray(rng.uniform(-0.5, 0.5, (B_, H)))
        if model is lstm:
            return lstm.State(h, B.asarray(rng.uniform(-0.5, 0.5, (B_, H))))
        return h
    return model, params, x, bidirectional.States(state(), state()), G


def _flat_states(model, states):
    """{name: array} of the arrays inside States (for gradcheck)."""
    out = {}
    for d in ("fwd", "bwd"):
        s = getattr(states, d)
        parts = s._asdict() if model is lstm else {"h": s}
        out.update({f"{d}.{k}": v for k, v in parts.items()})
    return out


def _states_of(model, flat):
    def one(d):
        if model is lstm:
            return lstm.State(flat[f"{d}.h"], flat[f"{d}.c"])
        return flat[f"{d}.h"]
    return bidirectional.States(one("fwd"), one("bwd"))


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("T, B_, D, H, K", [(3, 2, 2, 2, 2),
                                            (1, 1, 2, 1, 1)])
def test_gradients_are_exact(backend, name, T, B_, D, H, K):
    model, params, x, states0, G = _setup(name, T, B_, D, H, K)
    z_s, _, cache = bidirectional.forward(params, x, states0, model)
    back = bidirectional.backward(params, G, cache, model)
    assert list(back.grads) == list(params)
    for k in params:
        assert tuple(back.grads[k].shape) == tuple(params[k].shape), k
        assert back.grads[k].dtype == params[k].dtype, k
    assert tuple(back.dx.shape) == tuple(x.shape)
    xp = backend.xp

    def E(p, x_=x, s=states0):
        o, _, _ = bidirectional.forward(p, x_, s, model)
        return xp.sum(o * G)

    checks = gradcheck.check_gradients(E, params, back.grads)
    flat = _flat_states(model, states0)
    checks.update(gradcheck.check_gradients(
        lambda f: E(params, s=_states_of(model, f)), flat,
        _flat_states(model, back.dh0)))
    checks.update(gradcheck.check_gradients(
        lambda d: E(params, x_=d["x"]), {"x": x}, {"x": back.dx}))
    gradcheck.assert_gradients_close(checks, 1e-6)


def test_halves_are_the_two_directions(backend):
    model, params, x, states0, _ = _setup("lstm", 5, 2, 3, 4, 2)
    xp = backend.xp
    hs, _ = bidirectional.hidden_forward(params, x, states0, model)
    assert tuple(hs.shape) == (5, 2, 8)
    h_f, _ = lstm.hidden_forward(bidirectional.direction(params, "fwd"), x,
                                 states0.fwd)
    h_b, _ = lstm.hidden_forward(bidirectional.direction(params, "bwd"),
                                 xp.flip(x, axis=0), states0.bwd)
    np.testing.assert_allclose(B.to_numpy(hs[..., :4]), B.to_numpy(h_f),
                               rtol=1e-12, atol=1e-14)
    # the right-to-left state at t has read X(T), ..., X(t)
    np.testing.assert_allclose(B.to_numpy(hs[..., 4:]),
                               B.to_numpy(h_b)[::-1], rtol=1e-12,
                               atol=1e-14)


def test_reversing_the_input_swaps_the_directions(backend):
    """Reversed input + swapped directions = reversed, swapped states."""
    model, params, x, states0, _ = _setup("gru", 5, 2, 3, 4, 2)
    xp = backend.xp
    swapped = {("bwd" + k[3:] if k.startswith("fwd") else
                "fwd" + k[3:] if k.startswith("bwd") else k): v
               for k, v in params.items()}
    hs, _ = bidirectional.hidden_forward(params, x, states0, model)
    hs2, _ = bidirectional.hidden_forward(
        swapped, xp.flip(x, axis=0),
        bidirectional.States(states0.bwd, states0.fwd), model)
    want = np.concatenate([B.to_numpy(hs)[::-1, :, 4:],
                           B.to_numpy(hs)[::-1, :, :4]], axis=2)
    np.testing.assert_allclose(B.to_numpy(hs2), want, rtol=1e-12,
                               atol=1e-14)


def test_every_state_sees_the_last_input(backend):
    """A change of X(T) moves h(1) (through the right-to-left half only);
    a unidirectional layer's h(1) cannot see it."""
    model, params, x, states0, _ = _setup("rnn", 6, 1, 2, 3, 2)
    hs, _ = bidirectional.hidden_forward(params, x, states0, model)
    bumped = B.to_numpy(x).copy()
    bumped[-1] += 1.0
    hs2, _ = bidirectional.hidden_forward(params, B.asarray(bumped),
                                          states0, model)
    diff = np.abs(B.to_numpy(hs2) - B.to_numpy(hs))[0, 0]
    assert np.all(diff[:3] == 0) and np.all(diff[3:] > 0)


def test_layer_follows_the_model_protocol(backend):
    """Layer(model) in bptt.full_bptt gives bidirectional's gradients."""
    model, params, x, states0, _ = _setup("lstm", 3, 2, 2, 2, 3)
    y = B.asarray(np.random.default_rng(4).integers(0, 3, (3, 2)))
    layer = bidirectional.Layer(lstm)
    res = bptt.full_bptt(params, x, y, states0, model=layer)
    assert tuple(res.hs.shape) == (3, 2, 4)
    assert isinstance(res.final, bidirectional.States)

    def loss(p):
        return bptt.full_bptt(p, x, y, states0, model=layer).loss

    gradcheck.assert_gradients_close(
        gradcheck.check_gradients(loss, params, res.grads), 1e-6)
    zero = layer.zero_state(params, 2, x)
    assert tuple(zero.fwd.h.shape) == (2, 2)
    assert float(B.to_numpy(zero.bwd.c).sum()) == 0.0
    p2 = layer.init_params(2, 3, None, 0)
    assert "W_s" not in p2 and tuple(p2["bwd.U_f"].shape) == (3, 3)


def test_errors_name_the_argument(backend):
    model, params, x, states0, G = _setup("rnn", 3, 2, 2, 3, 2)
    with pytest.raises(TypeError, match="states0"):
        bidirectional.hidden_forward(params, x, (states0.fwd,), model)
    with pytest.raises(ValueError, match="name must be"):
        bidirectional.direction(params, "left")
    _, _, cache = bidirectional.forward(params, x, states0, model)
    with pytest.raises(ValueError, match="dhs must have 2H = 6"):
        bidirectional.hidden_backward(params, G, cache, model)
    bad = B.to_numpy(x).copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x"):
        bidirectional.forward(params, B.asarray(bad), states0, model)
    hidden = {k: v for k, v in params.items() if k not in ("W_s", "b_s")}
    with pytest.raises(ValueError, match="W_s"):
        bidirectional.backward(hidden, G, cache, model)
