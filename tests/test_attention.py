"""The encoder-decoder with additive attention (companion.attention):
exact gradients by finite differences for every parameter with each
cell and either encoder; the attention step against its equations (a
loop over j as oracle); greedy decoding; a short reversal learnt."""

import numpy as np
import pytest

from companion import attention
from companion import backend as B
from companion import gradcheck, gru, lstm, optim, rnn, seq2seq
from companion.data import grammar
from companion.data.text import one_hot

MODELS = [rnn, lstm, gru]


def _task(B_, L, seed):
    x, y = grammar.digit_reversal(B_, L, seed)
    return one_hot(x.T, 10), seq2seq.decoder_inputs(y, 10), B.asarray(y.T)


def _small_task(B_, L, V, seed):
    """L random symbols of V (not digits: fewer parameters to check)."""
    x = np.random.default_rng(seed).integers(0, V, (B_, L))
    y = x[:, ::-1]
    return one_hot(x.T, V), seq2seq.decoder_inputs(y, V), B.asarray(y.T)


def _params(model, H, A, bidirectional, seed=0, V=10):
    params = attention.init_params(V, H, V, A, seed, model=model,
                                   bidirectional=bidirectional)
    rng = np.random.default_rng(seed + 1)
    return {k: v + B.asarray(rng.normal(0, 0.2, tuple(v.shape)))
            for k, v in params.items()}


def test_init_keys_and_shapes(backend):
    p = attention.init_params(10, 4, 10, 5, 0, model=lstm)
    assert tuple(p["W_a"].shape) == (5, 4)
    assert tuple(p["U_a"].shape) == (5, 8)          # H_e = 2H
    assert tuple(p["v_a"].shape) == (5,)
    assert tuple(p["dec.W_f"].shape) == (4, 11 + 8)  # [Y(t-1); c_t]
    assert "enc.fwd.W_f" in p and "enc.W_f" not in p
    assert isinstance(attention.encoder(p, lstm), attention.bidir.Layer)
    q = attention.init_params(10, 4, 10, 5, 0, bidirectional=False)
    assert tuple(q["U_a"].shape) == (5, 4) and "enc.W_e" in q
    assert attention.encoder(q) is rnn
    with pytest.raises(ValueError, match="prefix"):
        attention.part(p, "att")


def _assert_exact(model, bidirectional, B_, L, H, A):
    params = _params(model, H, A, bidirectional, V=3)
    x, y_in, y = _small_task(B_, L, 3, 3)
    res = attention.loss_and_grads(params, x, y_in, y, model=model)
    assert list(res.grads) == list(params)
    for k in params:
        assert tuple(res.grads[k].shape) == tuple(params[k].shape), k
        assert res.grads[k].dtype == params[k].dtype, k
    assert tuple(res.alpha.shape) == (L, L, B_)

    def loss(p):
        return attention.loss_and_grads(p, x, y_in, y, model=model).loss

    checks = gradcheck.check_gradients(loss, params, res.grads)
    # relative error, unless the entry is at the difference's noise
    bad = {k: c for k, c in checks.items()
           if c.rel_error > 1e-6 and c.max_abs_error > 1e-8}
    assert not bad, bad


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("B_, L, H, A", [(2, 3, 2, 3), (1, 1, 1, 1)])
def test_gradients_are_exact(model, bidirectional, B_, L, H, A):
    B.set_backend("numpy")
    _assert_exact(model, bidirectional, B_, L, H, A)


@pytest.mark.parametrize("model, bidirectional", [(lstm, True),
                                                  (rnn, False)],
                         ids=["lstm-bidirectional", "rnn"])
def test_gradients_on_every_backend(backend, model, bidirectional):
    # the cells have their own tests on every backend: two configurations
    # here catch a NumPy-only call in attention itself
    _assert_exact(model, bidirectional, 2, 2, 1, 2)


def test_attend_follows_its_equations(backend):
    """α and c from a loop over j, written from the equations."""
    p = _params(gru, 3, 4, True)
    rng = np.random.default_rng(5)
    hs = rng.standard_normal((6, 2, 6))
    s_prev = rng.standard_normal((2, 3))
    W_a, U_a, v_a = (B.to_numpy(p[k]) for k in ("W_a", "U_a", "v_a"))
    hs_b = B.asarray(hs)
    c, alpha, _ = attention.attend(p, B.asarray(s_prev), hs_b,
                                   hs_b @ p["U_a"].T)
    for b in range(2):
        e = np.array([v_a @ np.tanh(W_a @ s_prev[b] + U_a @ hs[j, b])
                      for j in range(6)])
        want = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        np.testing.assert_allclose(B.to_numpy(alpha)[:, b], want,
                                   rtol=1e-12)
        np.testing.assert_allclose(B.to_numpy(c)[b], want @ hs[:, b],
                                   rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(B.to_numpy(alpha).sum(axis=0), 1.0)


def test_greedy_decode_shapes_and_errors(backend):
    p = attention.init_params(10, 4, 10, 3, 0, model=gru)
    x, _, _ = _task(3, 5, 1)
    out, alpha = attention.greedy_decode(p, x, 4, model=gru)
    assert out.shape == (3, 4) and out.dtype == np.int64
    assert alpha.shape == (4, 5, 3) and isinstance(alpha, np.ndarray)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="n must be"):
        attention.greedy_decode(p, x, 0)


def test_greedy_decode_feeds_back_its_argmax(backend):
    """Greedy decoding equals teacher forcing on its own output."""
    p = _params(lstm, 5, 4, True, seed=3)
    x, _, _ = _task(4, 3, 5)
    out, alpha = attention.greedy_decode(p, x, 3, model=lstm)
    hs, _ = attention.encode(p, x, lstm)
    z, _, _ = attention._decode(p, hs, lstm, "tanh",
                                y_in=seq2seq.decoder_inputs(out, 10))
    np.testing.assert_array_equal(B.to_numpy(z).argmax(axis=2).T, out)


def test_learns_to_reverse_and_attends_to_the_mirror_position():
    B.set_backend("numpy")
    L = 4
    params = attention.init_params(10, 12, 10, 12, 1, model=gru)
    opt = optim.Adam(2e-2)
    state = opt.init(params)
    for step in range(250):
        x, y_in, y = _task(32, L, 100 + step)
        res = attention.loss_and_grads(params, x, y_in, y, model=gru)
        params, state = opt.step(params, res.grads, state)
    xd, yd = grammar.digit_reversal(200, L, 9)
    out, alpha = attention.greedy_decode(params, one_hot(xd.T, 10), L,
                                         model=gru)
    assert np.mean(np.all(out == yd, axis=1)) > 0.9
    # output t copies input L - 1 - t: the weight sits on the
    # anti-diagonal
    mean = alpha.mean(axis=2)
    assert np.all(mean.argmax(axis=1) == np.arange(L)[::-1])
