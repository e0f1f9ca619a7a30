"""companion.losses: values, gradients, masks, reductions, bad input."""

import math

import numpy as np
import pytest

from companion import backend as B
from companion import losses as L
from companion.gradcheck import numerical_gradient, relative_error

T, BATCH, K = 4, 3, 5


def data(seed=0):
    rng = np.random.default_rng(seed)
    o = rng.normal(size=(T, BATCH, K))
    y = rng.normal(size=(T, BATCH, K))
    idx = rng.integers(0, K, size=(T, BATCH))
    mask = np.ones((T, BATCH))
    mask[2:, 0] = 0  # sequence 0 ends after two steps
    mask[3:, 2] = 0
    return o, y, idx, mask


def np_mse(o, y, w):
    return float((0.5 * ((o - y) ** 2).sum(-1) * w).sum())


def np_xent(z, idx, w):
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    picked = np.take_along_axis(logp, idx[..., None], -1)[..., 0]
    return float((-picked * w).sum())


def reduction_weights(mask, reduction):
    w = np.ones((T, BATCH)) if mask is None else mask
    if reduction == "batch":
        return w / BATCH
    if reduction == "mean":
        return w / w.sum()
    return w


@pytest.mark.parametrize("reduction", L.REDUCTIONS)
@pytest.mark.parametrize("use_mask", [False, True])
def test_mse_value_and_gradient(backend, reduction, use_mask):
    o, y, _, mask = data()
    m = mask if use_mask else None
    res = L.mse(B.asarray(o), B.asarray(y),
                None if m is None else B.asarray(m), reduction)
    assert res.loss.shape == () and tuple(res.grad.shape) == o.shape
    w = reduction_weights(m, reduction)
    assert math.isclose(float(res.loss), np_mse(o, y, w), rel_tol=1e-12)
    yb = B.asarray(y)
    mb = None if m is None else B.asarray(m)
    num = numerical_gradient(
        lambda v: L.mse(v, yb, mb, reduction).loss, B.asarray(o))
    assert relative_error(res.grad, num) < 1e-8


@pytest.mark.parametrize("reduction", L.REDUCTIONS)
@pytest.mark.parametrize("use_mask", [False, True])
def test_cross_entropy_value_and_gradient(backend, reduction, use_mask):
    z, _, idx, mask = data(1)
    m = mask if use_mask else None
    mb = None if m is None else B.asarray(m)
    res = L.softmax_cross_entropy(B.asarray(z), B.asarray(idx), mb,
                                  reduction)
    w = reduction_weights(m, reduction)
    assert math.isclose(float(res.loss), np_xent(z, idx, w), rel_tol=1e-12)
    yb = B.asarray(idx)
    num = numerical_gradient(
        lambda v: L.softmax_cross_entropy(v, yb, mb, reduction).loss,
        B.asarray(z))
    assert relative_error(res.grad, num) < 1e-8


def test_cross_entropy_gradient_is_o_minus_y(backend):
    """RNNBACK's dz_s(t) = o(t) - y(t) with one-hot y."""
    z, _, idx, _ = data(2)
    res = L.softmax_cross_entropy(B.asarray(z), B.asarray(idx))
    e = np.exp(z - z.max(-1, keepdims=True))
    o = e / e.sum(-1, keepdims=True)
    onehot = np.eye(K)[idx]
    np.testing.assert_allclose(B.to_numpy(res.grad), o - onehot,
                               rtol=1e-12, atol=1e-15)


def test_one_hot_targets_equal_index_targets(backend):
    z, _, idx, _ = data(3)
    a = L.softmax_cross_entropy(B.asarray(z), B.asarray(idx))
    b = L.softmax_cross_entropy(B.asarray(z), B.asarray(np.eye(K)[idx]))
    assert math.isclose(float(a.loss), float(b.loss), rel_tol=1e-14)
    np.testing.assert_allclose(B.to_numpy(a.grad), B.to_numpy(b.grad))


def test_uniform_logits_give_T_ln_V(backend):
    """At zero logits each step costs ln V: the loss is T·ln V per sequence.
    """
    z = B.zeros((T, 1, K))
    idx = B.asarray(np.zeros((T, 1), dtype=np.int64))
    res = L.softmax_cross_entropy(z, idx)
    assert math.isclose(float(res.loss), T * math.log(K), rel_tol=1e-14)


def test_cross_entropy_stable_for_huge_logits(backend):
    z = np.zeros((1, 1, 3))
    z[0, 0, 0] = 1e4
    res = L.softmax_cross_entropy(B.asarray(z), B.asarray([[1]]))
    assert math.isclose(float(res.loss), 1e4, rel_tol=1e-12)
    assert np.all(np.isfinite(B.to_numpy(res.grad)))


def test_masked_steps_have_zero_gradient(backend):
    o, y, idx, mask = data(4)
    g = B.to_numpy(L.mse(B.asarray(o), B.asarray(y), B.asarray(mask)).grad)
    assert np.all(g[mask == 0] == 0) and np.all(g[mask == 1] != 0)


def test_bad_inputs_are_named(backend):
    o, y, idx, mask = data(5)
    ob = B.asarray(o)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 3, 5\)"):
        L.mse(ob, B.asarray(y[:, :2]))
    with pytest.raises(ValueError, match=r"mask must have shape \(4, 3\)"):
        L.mse(ob, B.asarray(y), B.asarray(mask[:3]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\)"):
        L.softmax_cross_entropy(ob, B.asarray(idx + 1))
    with pytest.raises(ValueError, match=r"y \(class indices\) must have"):
        L.softmax_cross_entropy(ob, B.asarray(idx[:, :1]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.mse(ob, B.asarray(y), reduction="avg")
    with pytest.raises(ValueError, match="only 0/1"):
        L.mse(ob, B.asarray(y), B.asarray(mask * 2))
    with pytest.raises(ValueError, match="NaN"):
        L.mse(ob, B.asarray(np.full_like(y, np.nan)))
    with pytest.raises(TypeError, match="o must be a floating array"):
        L.mse(B.asarray(idx[..., None]), B.asarray(idx[..., None]))
    with pytest.raises(TypeError, match="o must be an array"):
        L.mse([[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="selects no step"):
        L.mse(ob, B.asarray(y), B.zeros((T, BATCH)), reduction="mean")
