"""companion.captioning with every recurrent layer and both ways of
injecting the image: exact gradients for every parameter (W_v and b_v
included), the mask, greedy and sampled decoding."""

import numpy as np
import pytest

from companion import backend as B
from companion import captioning as cap
from companion import gradcheck, gru, lstm, rnn
from companion.data import digits

MODELS = [rnn, lstm, gru]
V = 12


def _batch(B_, L, F, seed):
    r = np.random.default_rng(seed)
    lengths = r.integers(0, L + 1, B_)
    tokens = np.full((B_, L + 1), digits.END)
    for b, n in enumerate(lengths):
        tokens[b, :n] = r.integers(0, 10, n)
    return cap.batch(r.normal(0.0, 1.0, (B_, F)), tokens, lengths, V)


def _perturbed(params, seed):
    r = np.random.default_rng(seed)
    return {k: v + B.asarray(r.normal(0, 0.1, tuple(v.shape)))
            for k, v in params.items()}


def test_init_shapes_and_injection(backend):
    p = cap.init_params(5, 4, V, 0, model=lstm)
    assert cap.injection(p) == "state"
    assert tuple(p["W_v"].shape) == (4, 5) and tuple(p["b_v"].shape) == (4,)
    assert tuple(p["W_f"].shape) == (4, V)
    q = cap.init_params(5, 4, V, 0, model=gru, inject="input", E=3)
    assert cap.injection(q) == "input"
    assert tuple(q["W_v"].shape) == (3, 5)
    assert tuple(q["W_z"].shape) == (4, V + 3)
    assert "W_v" not in cap.cell_params(q)
    with pytest.raises(ValueError, match="inject must be"):
        cap.init_params(5, 4, V, 0, inject="bias")
    bad = dict(p, W_v=B.asarray(np.zeros((2, 5))))
    bad["W_f"] = B.asarray(np.zeros((4, 7)))
    with pytest.raises(ValueError, match="the layer reads D = 7"):
        cap.injection(bad)
    with pytest.raises(ValueError, match="not captioning params"):
        cap.injection(cap.cell_params(p))


def test_batch_teacher_forcing_and_mask(backend):
    b = cap.batch(np.ones((2, 3)), np.array([[3, 1, 10], [7, 10, 10]]),
                  np.array([2, 1]), V)
    assert tuple(b.x.shape) == (3, 2, V) and b.x.dtype == backend.float_dtype
    x = B.to_numpy(b.x).argmax(axis=2).T
    assert x.tolist() == [[11, 3, 1], [11, 7, 10]]    # START, then words
    assert B.to_numpy(b.mask).T.tolist() == [[1, 1, 1], [1, 1, 0]]
    with pytest.raises(ValueError, match="room for END"):
        cap.batch(np.ones((1, 3)), np.array([[3, 1]]), np.array([2]), V)
    with pytest.raises(ValueError, match="tokens must be"):
        cap.batch(np.ones((1, 3)), np.array([3, 1]), np.array([1]), V)


@pytest.mark.parametrize("inject", cap.INJECTIONS)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("B_, L, H, F", [(2, 3, 3, 4), (1, 1, 1, 1)])
def test_gradients_are_exact(backend, model, inject, B_, L, H, F):
    params = _perturbed(cap.init_params(F, H, V, 1, model=model,
                                        inject=inject, E=2), 2)
    b = _batch(B_, L, F, 3)
    res = cap.loss_and_grads(params, b, model)
    assert list(res.grads) == list(params)
    for k in params:
        assert tuple(res.grads[k].shape) == tuple(params[k].shape)
        assert res.grads[k].dtype == params[k].dtype

    def loss(p):
        return cap.loss_and_grads(p, b, model).loss

    checks = gradcheck.check_gradients(loss, params, res.grads)
    bad = {k: c for k, c in checks.items()
           if c.rel_error > 1e-6 and c.max_abs_error > 1e-8}
    assert not bad, bad
    # the image projection is trained: its gradient is not zero
    assert float(np.abs(B.to_numpy(res.grads["W_v"])).max()) > 1e-6


@pytest.mark.parametrize("inject", cap.INJECTIONS)
def test_padding_after_end_does_not_count(backend, inject):
    params = _perturbed(cap.init_params(4, 3, V, 0, model=gru,
                                        inject=inject), 1)
    v = np.random.default_rng(0).normal(size=(2, 4))
    lengths = np.array([1, 2])
    t1 = np.array([[4, 10, 10, 10], [5, 6, 10, 10]])
    t2 = np.array([[4, 10, 3, 9], [5, 6, 10, 0]])   # garbage after END
    r1 = cap.loss_and_grads(params, cap.batch(v, t1, lengths, V), gru)
    r2 = cap.loss_and_grads(params, cap.batch(v, t2, lengths, V), gru)
    assert r1.loss == pytest.approx(r2.loss, rel=1e-12)
    for k in params:
        np.testing.assert_allclose(B.to_numpy(r1.grads[k]),
                                   B.to_numpy(r2.grads[k]), atol=1e-14)


@pytest.mark.parametrize("inject", cap.INJECTIONS)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_greedy_decode_feeds_back_its_argmax(backend, model, inject):
    """Greedy decoding equals teacher forcing on its own output."""
    params = _perturbed(cap.init_params(6, 5, V, 4, model=model,
                                        inject=inject), 5)
    v = np.random.default_rng(6).normal(size=(4, 6))
    out = cap.decode(params, B.asarray(v), 3, model)
    assert out.shape == (4, 3) and out.dtype == np.int64
    # score the decoded tokens as a teacher-forced caption of length 3
    b = cap.batch(v, np.concatenate([out, np.full((4, 1), 10)], axis=1),
                  np.full(4, 3), V)
    xin, state0, _ = cap._inputs(params, b.v, b.x, model)
    hs, _ = model.hidden_forward(cap.cell_params(params), xin, state0)
    hs = hs if inject == "state" else hs[1:, ...]
    z = B.to_numpy(hs @ params["W_s"].T + params["b_s"])
    np.testing.assert_array_equal(z[:3].argmax(axis=2).T, out)


def test_sampling(backend):
    params = _perturbed(cap.init_params(6, 5, V, 4, model=lstm), 5)
    v = B.asarray(np.random.default_rng(6).normal(size=(50, 6)))
    greedy = cap.decode(params, v, 4, lstm)
    # a tiny temperature is the argmax; the same seed, the same draw
    np.testing.assert_array_equal(
        cap.decode(params, v, 4, lstm, temperature=1e-6, rng=0), greedy)
    hot = cap.decode(params, v, 4, lstm, temperature=5.0, rng=1)
    np.testing.assert_array_equal(
        hot, cap.decode(params, v, 4, lstm, temperature=5.0, rng=1))
    assert (hot != greedy).any() and hot.min() >= 0 and hot.max() < V
    with pytest.raises(ValueError, match="temperature"):
        cap.decode(params, v, 4, lstm, temperature=-1.0)
    with pytest.raises(ValueError, match="n must be"):
        cap.decode(params, v, 0, lstm)


def test_draw_follows_the_probabilities():
    z = np.log(np.array([[0.2, 0.5, 0.3]] * 20000))
    counts = np.bincount(cap._draw(z, np.random.default_rng(0)),
                         minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.015)


def test_bad_features(backend):
    params = cap.init_params(4, 3, V, 0)
    b = _batch(2, 2, 5, 0)
    with pytest.raises(ValueError, match=r"v must be \(B, F = 4\)"):
        cap.loss_and_grads(params, b)
    nan = b._replace(v=B.asarray(np.full((2, 4), np.nan)))
    with pytest.raises(ValueError, match="v"):
        cap.loss_and_grads(params, nan)
