"""The encoder-decoder (companion.seq2seq) with every recurrent layer:
exact gradients through the encoder's final state, teacher forcing,
greedy decoding, and a reversal task learnt."""

import numpy as np
import pytest

from companion import backend as B
from companion import gradcheck, gru, lstm, optim, rnn, seq2seq
from companion.data import grammar
from companion.data.text import one_hot

MODELS = [rnn, lstm, gru]


def _task(B_, L, seed):
    x, y = grammar.digit_reversal(B_, L, seed)
    return one_hot(x.T, 10), seq2seq.decoder_inputs(y, 10), B.asarray(y.T)


def test_init_and_parts(backend):
    p = seq2seq.init_params(3, 4, 5, 0, model=lstm)
    enc, dec = seq2seq.part(p, "enc"), seq2seq.part(p, "dec")
    assert "W_s" not in enc and tuple(dec["W_s"].shape) == (5, 4)
    assert tuple(enc["W_f"].shape) == (4, 3)
    assert tuple(dec["W_f"].shape) == (4, 6)
    with pytest.raises(ValueError, match="prefix"):
        seq2seq.part(p, "mid")


def test_decoder_inputs_shift_and_go(backend):
    y_in = seq2seq.decoder_inputs(np.array([[3, 1, 2]]), 4)
    assert tuple(y_in.shape) == (3, 1, 5) and y_in.dtype == backend.float_dtype
    assert B.to_numpy(y_in)[:, 0, :].argmax(axis=1).tolist() == [4, 3, 1]
    with pytest.raises(ValueError, match="y must be"):
        seq2seq.decoder_inputs(np.array([1, 2]), 4)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("B_, L, H", [(2, 3, 4), (1, 1, 1)])
def test_gradients_are_exact(backend, model, B_, L, H):
    params = seq2seq.init_params(10, H, 10, 1, model=model)
    rng = np.random.default_rng(2)
    params = {k: v + B.asarray(rng.normal(0, 0.1, tuple(v.shape)))
              for k, v in params.items()}
    x, y_in, y = _task(B_, L, 3)
    res = seq2seq.loss_and_grads(params, x, y_in, y, model=model)
    assert set(res.grads) == set(params)
    for k in params:
        assert tuple(res.grads[k].shape) == tuple(params[k].shape)
        assert res.grads[k].dtype == params[k].dtype

    def loss(p):
        return seq2seq.loss_and_grads(p, x, y_in, y, model=model).loss

    checks = gradcheck.check_gradients(loss, params, res.grads)
    bad = {k: c for k, c in checks.items()
           if c.rel_error > 1e-6 and c.max_abs_error > 1e-8}
    assert not bad, bad
    # the encoder is trained through the decoder's initial state
    enc_grads = [B.to_numpy(g) for k, g in res.grads.items()
                 if k.startswith("enc.")]
    assert max(float(np.abs(g).max()) for g in enc_grads) > 0.0


def test_greedy_decode_shape_and_errors(backend):
    params = seq2seq.init_params(10, 4, 10, 0)
    x, _, _ = _task(3, 2, 0)
    out = seq2seq.greedy_decode(params, x, 5)
    assert out.shape == (3, 5) and out.dtype == np.int64
    assert out.min() >= 0 and out.max() < 10
    with pytest.raises(ValueError, match="n must be"):
        seq2seq.greedy_decode(params, x, 0)


def test_greedy_decode_feeds_back_its_argmax(backend):
    """The greedy decoder equals teacher forcing on its own output."""
    params = seq2seq.init_params(10, 6, 10, 4, model=gru)
    x, _, _ = _task(4, 3, 5)
    out = seq2seq.greedy_decode(params, x, 3, model=gru)
    state, _ = seq2seq.encode(params, x, gru)
    dec = seq2seq.part(params, "dec")
    hs, _ = gru.hidden_forward(dec, seq2seq.decoder_inputs(out, 10), state)
    z = B.to_numpy(hs @ dec["W_s"].T + dec["b_s"])
    np.testing.assert_array_equal(z.argmax(axis=2).T, out)


def test_learns_to_reverse_two_digits():
    B.set_backend("numpy")
    params = seq2seq.init_params(10, 24, 10, 1)
    opt = optim.Adam(1e-2)
    state = opt.init(params)
    for step in range(300):
        x, y_in, y = _task(32, 2, 100 + step)
        res = seq2seq.loss_and_grads(params, x, y_in, y)
        params, state = opt.step(params, res.grads, state)
    xd, yd = grammar.digit_reversal(200, 2, 9)
    out = seq2seq.greedy_decode(params, one_hot(xd.T, 10), 2)
    assert np.mean(np.all(out == yd, axis=1)) > 0.9
