"""companion.classify: the many-to-one classifier gradient-checked for
every parameter (RNN, LSTM, GRU; pooling at the last step and mean
pooling) on padded batches of different lengths, the pooling read from
each sequence's own steps only, the bag-of-words baseline, and clear
errors for a bad mask."""

import numpy as np
import pytest

from companion import backend as B
from companion import classify, gru, losses, lstm, optim, rnn
from companion.data import sentiment
from companion.gradcheck import assert_gradients_close, check_gradients

MODELS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def batch(lengths, V, seed):
    rng = np.random.default_rng(seed)
    seqs = [list(rng.integers(2, V, n)) for n in lengths]
    ids, mask = sentiment.pad(seqs)
    y = B.asarray(rng.integers(0, 2, len(lengths)))
    return seqs, ids, mask, y


def perturbed(params, seed):
    rng = np.random.default_rng(seed)
    return {k: v + B.asarray(rng.normal(0, 0.3, tuple(v.shape)))
            for k, v in params.items()}


# every cell and pooling on a batch of lengths 4, 1, 3; the edge case
# T = B = 1 for one cell (the cells' own edge cases are in their tests)
CASES = [(n, p, (4, 1, 3)) for n in sorted(MODELS) for p in classify.POOLS]
CASES += [("gru", p, (1,)) for p in classify.POOLS]


@pytest.mark.parametrize("name, pool, lengths", CASES)
def test_gradient_check_every_parameter(backend, name, pool, lengths):
    model, V = MODELS[name], 9
    _, ids, mask, y = batch(lengths, V, seed=len(lengths))
    params = perturbed(classify.init_params(V, 3, 4, 2, np.random.default_rng(
        1), model), seed=2)
    res = classify.loss_and_grads(params, ids, mask, y, model, pool)
    assert list(res.grads) == list(params)
    assert list(params)[0] == "E"
    for k in params:
        assert tuple(res.grads[k].shape) == tuple(params[k].shape), k

    def loss(p):
        z, _ = classify.forward(p, ids, mask, model, pool)
        return losses.softmax_cross_entropy(z, y, reduction="mean").loss
    assert abs(float(loss(params)) - res.loss) < 1e-12
    assert_gradients_close(check_gradients(loss, params, res.grads), 1e-6)


@pytest.mark.parametrize("pool", classify.POOLS)
def test_pooling_reads_each_sequence_alone(backend, pool):
    """z of a padded batch equals z of each sequence run alone (no
    padding): pads after a text never reach its pooled state."""
    model, V = gru, 11
    seqs, ids, mask, _ = batch((5, 2, 1, 4), V, seed=7)
    params = perturbed(classify.init_params(V, 3, 5, 2, np.random.default_rng(
        4), model), seed=5)
    z, _ = classify.forward(params, ids, mask, model, pool)
    for b, s in enumerate(seqs):
        ids1, mask1 = sentiment.pad([s])
        z1, cache = classify.forward(params, ids1, mask1, model, pool)
        hs = B.to_numpy(cache.layer.hs[1:, 0, :])
        want = hs[-1] if pool == "last" else hs.mean(axis=0)
        assert np.allclose(B.to_numpy(cache.s)[0], want, atol=1e-14)
        assert np.allclose(B.to_numpy(z)[b], B.to_numpy(z1)[0], atol=1e-12)


def test_pool_weights(backend):
    mask = B.asarray(np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    last = B.to_numpy(classify.pool_weights(mask, "last"))
    mean = B.to_numpy(classify.pool_weights(mask, "mean"))
    assert np.array_equal(last, [[0, 1], [0, 0], [1, 0]])
    assert np.allclose(mean, [[1 / 3, 1], [1 / 3, 0], [1 / 3, 0]])


def test_bad_mask_and_pool_are_refused(backend):
    gap = B.asarray(np.array([[1.0], [0.0], [1.0]]))     # not a prefix
    with pytest.raises(ValueError, match="ones for its L >= 1 words"):
        classify.pool_weights(gap, "mean")
    empty = B.asarray(np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="right"):
        classify.pool_weights(empty, "last")
    with pytest.raises(ValueError, match="pool must be one of"):
        classify.pool_weights(B.asarray(np.ones((2, 2))), "max")
    _, ids, mask, _ = batch((2, 3), 5, seed=0)
    params = classify.init_params(5, 2, 3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mask must have shape"):
        classify.forward(params, ids, mask[:, :1])


def test_bag_of_words_gradients_and_order_blindness(backend):
    V = 8
    seqs, _, _, y = batch((4, 2, 5), V, seed=9)
    counts = sentiment.bag_of_words(seqs, V)
    params = perturbed(classify.bow_init(V, 2), seed=3)
    res = classify.bow_loss_and_grads(params, counts, y)

    def loss(p):
        return classify.bow_loss_and_grads(p, counts, y).loss
    assert_gradients_close(check_gradients(loss, params, res.grads), 1e-7)
    reversed_counts = sentiment.bag_of_words([s[::-1] for s in seqs], V)
    assert np.array_equal(B.to_numpy(classify.bow_forward(params, counts)),
                          B.to_numpy(classify.bow_forward(params,
                                                          reversed_counts)))


def test_fit_lowers_the_loss(backend):
    """A few Adam steps on a separable toy task (word 2 = positive)."""
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(3, 6, 3)) + [2 if b % 2 else 3]
            for b in range(16)]
    ids, mask = sentiment.pad(seqs)
    y = B.asarray(np.arange(16) % 2)
    params = classify.init_params(6, 4, 5, 2, rng, gru)

    def loss_fn(p, idx):
        return classify.loss_and_grads(p, ids, mask, y, gru, "last")
    params, history = classify.fit(params, loss_fn, lambda e: [np.arange(16)],
                                   optim.Adam(lr=0.05), 30)
    assert len(history) == 30 and history[-1] < 0.1 * history[0]
