"""companion.data.tasks: the adding problem and the copy-memory task."""

import math

import numpy as np
import pytest

from companion import backend as B
from companion import bptt
from companion.data import tasks


@pytest.mark.parametrize("T, n", [(2, 1), (10, 64), (101, 32)])
def test_adding_problem_layout(backend, T, n):
    x, y, mask = tasks.adding_problem(T, n, seed=3)
    assert tuple(x.shape) == (T, n, 2) and x.dtype == backend.float_dtype
    assert tuple(y.shape) == (T, n, 1) and y.dtype == backend.float_dtype
    assert tuple(mask.shape) == (T, n) and mask.dtype == x.dtype
    x, y, mask = (B.to_numpy(a) for a in (x, y, mask))
    values, marker = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    np.testing.assert_array_equal(marker.sum(axis=0), 2.0)
    t1 = marker.argmax(axis=0)
    t2 = T - 1 - marker[::-1].argmax(axis=0)
    # the first marker in the first half, the second in the second half
    assert (t1 < T // 2).all() and (t2 >= T // 2).all()
    want = values[t1, np.arange(n)] + values[t2, np.arange(n)]
    np.testing.assert_allclose(y[-1, :, 0], want, rtol=1e-15)
    np.testing.assert_array_equal(y[:-1], 0.0)
    np.testing.assert_array_equal(mask[-1], 1.0)
    np.testing.assert_array_equal(mask[:-1], 0.0)


def test_adding_problem_is_seeded_and_the_same_on_every_backend():
    a = tasks.adding_problem(7, 3, seed=5, xp=B.resolve(None))
    B.set_backend("gpu-proxy")
    b = tasks.adding_problem(7, 3, seed=5)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(B.to_numpy(u), B.to_numpy(v))
    c = tasks.adding_problem(7, 3, seed=6)
    assert not np.array_equal(B.to_numpy(a.x), B.to_numpy(c.x))


def test_adding_baseline_is_one_sixth():
    """Predicting the mean 1 always: MSE = Var(U1 + U2) = 1/6."""
    assert tasks.ADDING_BASELINE == pytest.approx(1 / 6, rel=1e-15)
    _, y, _ = tasks.adding_problem(4, 200_000, seed=0)
    target = B.to_numpy(y)[-1, :, 0]
    assert target.mean() == pytest.approx(1.0, abs=3e-3)
    mse_of_mean = float(np.mean((target - 1.0) ** 2))
    assert mse_of_mean == pytest.approx(1 / 6, rel=1e-2)


def test_adding_problem_fits_full_bptt(backend):
    from companion import rnn
    batch = tasks.adding_problem(6, 4, seed=1)
    params = rnn.init_params(2, 3, 1, np.random.default_rng(0))
    res = bptt.full_bptt(params, batch.x, batch.y, B.zeros((4, 3)), "mse",
                         mask=batch.mask)
    o, _, _ = rnn.forward(params, batch.x, B.zeros((4, 3)))
    diff = B.to_numpy(o)[-1, :, 0] - B.to_numpy(batch.y)[-1, :, 0]
    assert res.loss == pytest.approx(0.5 * np.sum(diff ** 2), rel=1e-12)


def test_adding_problem_bad_input():
    with pytest.raises(ValueError, match="T must be >= 2, got 1"):
        tasks.adding_problem(1, 4, seed=0)
    with pytest.raises(TypeError, match="B must be an int"):
        tasks.adding_problem(5, 2.0, seed=0)
    v = B.asarray(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"first must be \(B,\) = \(2,\)"):
        tasks.adding_batch(v, B.asarray(np.array([0])),
                           B.asarray(np.array([3, 4])))
    with pytest.raises(ValueError, match=r"values must be \(T, B\)"):
        tasks.adding_batch(B.asarray(np.zeros(5)), None, None)


@pytest.mark.parametrize("T, n", [(1, 1), (5, 3), (100, 2)])
def test_copy_memory_layout(backend, T, n):
    x, y, mask = tasks.copy_memory(T, n, seed=2)
    L = T + 20
    assert mask is None
    assert tuple(x.shape) == (L, n, 10) and x.dtype == backend.float_dtype
    assert tuple(y.shape) == (L, n)
    x, y = B.to_numpy(x), B.to_numpy(y)
    assert y.dtype.kind == "i"
    np.testing.assert_array_equal(x.sum(-1), 1.0)  # one-hot
    inputs = x.argmax(-1)
    symbols = inputs[:10]
    assert ((symbols >= 1) & (symbols <= 8)).all()
    np.testing.assert_array_equal(inputs[10:T + 9], 0)     # T - 1 blanks
    np.testing.assert_array_equal(inputs[T + 9], 9)        # delimiter
    np.testing.assert_array_equal(inputs[T + 10:], 0)      # 10 blanks
    np.testing.assert_array_equal(y[:T + 10], 0)
    np.testing.assert_array_equal(y[T + 10:], symbols)     # lag T + 10
    assert y.max() < tasks.COPY_CLASSES


def test_copy_batch_from_symbols():
    x, y, _ = tasks.copy_batch(np.array([[3], [8]]), 2)
    assert B.to_numpy(x).argmax(-1)[:, 0].tolist() == [3, 8, 0, 9, 0, 0]
    assert B.to_numpy(y)[:, 0].tolist() == [0, 0, 0, 0, 3, 8]
    with pytest.raises(ValueError, match="integers in 1..8"):
        tasks.copy_batch(np.array([[0]]), 2)
    with pytest.raises(ValueError, match="T must be >= 1, got 0"):
        tasks.copy_memory(0, 2, seed=0)


def test_copy_baseline_is_the_memoryless_cross_entropy(backend):
    """Blanks where sure, uniform over the 8 symbols at the recall steps:
    the per-step cross-entropy equals 10 ln 8 / (T + 20)."""
    from companion import losses
    T = 30
    _, y, _ = tasks.copy_memory(T, 4, seed=1)
    logits = np.full((T + 20, 4, 9), -1e9)
    logits[:T + 10, :, 0] = 0.0
    logits[T + 10:, :, 1:] = 0.0
    res = losses.softmax_cross_entropy(B.asarray(logits), y,
                                       reduction="mean")
    assert float(res.loss) == pytest.approx(tasks.copy_baseline(T),
                                            rel=1e-12)
    assert tasks.copy_baseline(T) == pytest.approx(
        10 * math.log(8) / (T + 20), rel=1e-15)
