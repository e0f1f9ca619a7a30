"""Losses summed over time, as in the lectures (chapters 1-8).

The lectures define the loss of a sequence as a sum over its time steps,

    E = Σ_t E(o(t), y(t)),

with, per step,

    squared error   E(o, y) = ½ ‖o - y‖²                 dE/do = o - y
    cross-entropy   E(o, y) = -Σ_k y_k log o_k,  o = softmax(z_s)
                                                   dE/dz_s = o - y

Every function returns the loss and its gradient together; the
cross-entropy gradient is taken with respect to the logits z_s (the fused
softmax + cross-entropy of RNNBACK: dz_s(t) = o(t) - y(t)).

Shapes: outputs are time-major (T, B, K) (any leading shape works); an
optional mask of the leading shape (T, B) is 1 where a step counts and 0 on
padding. ``reduction`` says how steps and sequences are combined:

* ``"sum"``   Σ over t and over the batch (the lectures' E for B = 1),
* ``"batch"`` Σ over t, mean over the B sequences of the batch,
* ``"mean"``  mean over the counted (unmasked) steps.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._validate import check_array, check_finite, check_floating
from .activations import log_softmax
from .backend import device

REDUCTIONS = ("sum", "batch", "mean")


class LossResult(NamedTuple):
    """A scalar loss (0-d array) and its gradient (shape of the input)."""

    loss: Any
    grad: Any


def _weights(xp, lead_shape, dtype, dev, mask, reduction):
    """Per-step weights w(t, b) so that E = Σ w(t, b) E_tb.

    Returns (weights of shape lead_shape, or None when all are 1).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, "
                         f"got {reduction!r}")
    w = None
    if mask is not None:
        check_array(mask, "mask", shape=lead_shape)
        w = xp.astype(mask, dtype)
        if not bool(xp.all((w == 0) | (w == 1))):
            raise ValueError("mask must hold only 0/1 (or True/False)")
    if reduction == "sum":
        return w
    if reduction == "batch":
        batch = lead_shape[-1] if lead_shape else 1  # B of (T, B)
        scale = 1.0 / batch
    else:
        count = (float(xp.sum(w)) if w is not None
                 else float(_prod(lead_shape)))
        if count == 0:
            raise ValueError("mask selects no step: the mean is undefined")
        scale = 1.0 / count
    if w is None:
        return xp.full(lead_shape, scale, dtype=dtype, device=dev)
    return w * scale


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def mse(o, y, mask=None, reduction: str = "sum") -> LossResult:
    """Squared error summed over time: E = Σ_t ½ ‖o(t) - y(t)‖².

    Args:
        o: outputs, shape (T, B, K) (or any shape (..., K)).
        y: targets, same shape as ``o``.
        mask: optional 0/1 array of shape (T, B) (``o.shape[:-1]``).
        reduction: ``"sum"``, ``"batch"`` or ``"mean"`` (module docstring).

    Returns:
        LossResult(loss, dE/do) with dE/do of the shape of ``o``.
    """
    xp = check_array(o, "o")
    check_floating(o, "o")
    check_array(y, "y", shape=tuple(o.shape))
    check_finite(y, "y")
    if o.ndim < 1:
        raise ValueError("o must have at least one (feature) dimension")
    diff = o - xp.astype(y, o.dtype)
    per_step = 0.5 * xp.sum(diff * diff, axis=-1)
    w = _weights(xp, tuple(o.shape[:-1]), o.dtype, device(o), mask,
                 reduction)
    if w is None:
        return LossResult(xp.sum(per_step), diff)
    return LossResult(xp.sum(w * per_step), diff * w[..., None])


def softmax_cross_entropy(z, y, mask=None,
                          reduction: str = "sum") -> LossResult:
    """Cross-entropy of softmax(z) summed over time, with dE/dz.

    E = -Σ_t Σ_k y_k(t) log softmax(z(t))_k and dE/dz(t) = o(t) - y(t).

    Args:
        z: logits z_s, shape (T, B, V) (or any shape (..., V)).
        y: targets, either integer class indices of shape (T, B) in
            [0, V), or probabilities (e.g. one-hot) of the shape of ``z``.
        mask: optional 0/1 array of shape (T, B).
        reduction: ``"sum"``, ``"batch"`` or ``"mean"`` (module docstring).

    Returns:
        LossResult(loss, dE/dz) with dE/dz of the shape of ``z``.
    """
    xp = check_array(z, "z")
    check_floating(z, "z")
    if z.ndim < 1:
        raise ValueError("z must have at least one (class) dimension")
    lead, classes = tuple(z.shape[:-1]), z.shape[-1]
    target = _as_distribution(xp, y, lead, classes, z)
    logp = log_softmax(z)
    # Σ_k y_k log o_k is finite even where o_k underflows, as y_k = 0 there
    per_step = -xp.sum(xp.where(target > 0, target * logp,
                                xp.zeros_like(logp)), axis=-1)
    grad = xp.exp(logp) - target
    w = _weights(xp, lead, z.dtype, device(z), mask, reduction)
    if w is None:
        return LossResult(xp.sum(per_step), grad)
    return LossResult(xp.sum(w * per_step), grad * w[..., None])


def _as_distribution(xp, y, lead, classes, z):
    """Targets as probabilities of the shape of z (one-hot for indices)."""
    check_array(y, "y")
    if xp.isdtype(y.dtype, "integral"):
        check_array(y, "y (class indices)", shape=lead)
        if y.size and (int(xp.min(y)) < 0 or int(xp.max(y)) >= classes):
            raise ValueError(
                f"class indices y must lie in [0, {classes}), got values in "
                f"[{int(xp.min(y))}, {int(xp.max(y))}]")
        ks = xp.arange(classes, device=device(z))
        return xp.astype(y[..., None] == ks, z.dtype)
    check_array(y, "y (probabilities)", shape=tuple(z.shape))
    check_finite(y, "y")
    if bool(xp.any(y < 0)):
        raise ValueError("target probabilities y must be non-negative")
    return xp.astype(y, z.dtype)
