"""Activation functions f_h and f_s and their derivatives (chapters 1-6).

The lectures write h(t) = f_h(z_h(t)) and o(t) = f_s(z_s(t)). Each
activation here has a forward ``f(z)`` and a backward ``f_backward(dy, y)``
that maps the gradient dE/dy at the output y = f(z) to dE/dz. Every backward
is written in terms of the output y, which the forward pass keeps anyway:

    sigmoid'(z) = y (1 - y)           tanh'(z) = 1 - y²
    relu'(z)    = [y > 0]             identity'(z) = 1
    softmax:      dz = y ∘ (dy - <dy, y>)
    log-softmax:  dz = dy - exp(y) Σ dy

All are numerically stable for large |z| (no overflow, no NaN) and work on
any array-API backend.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .backend import namespace


def sigmoid(z):
    """σ(z) = 1 / (1 + exp(-z)), computed without overflow."""
    xp = namespace(z)
    e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(dy, y):
    """dE/dz = dE/dy ∘ y ∘ (1 - y) for y = σ(z)."""
    return dy * y * (1.0 - y)


def tanh(z):
    """tanh(z) (saturates cleanly at ±1)."""
    return namespace(z).tanh(z)


def tanh_backward(dy, y):
    """dE/dz = dE/dy ∘ (1 - y²) for y = tanh(z)."""
    return dy * (1.0 - y * y)


def relu(z):
    """max(0, z)."""
    xp = namespace(z)
    return xp.where(z > 0, z, xp.zeros_like(z))


def relu_backward(dy, y):
    """dE/dz = dE/dy ∘ [z > 0] (equivalently [y > 0]); 0 at z = 0."""
    xp = namespace(dy, y)
    return xp.where(y > 0, dy, xp.zeros_like(dy))


def identity(z):
    """f(z) = z (a linear output, as for regression)."""
    return z


def identity_backward(dy, y):
    """dE/dz = dE/dy."""
    return dy


def softmax(z, axis: int = -1):
    """exp(z_k) / Σ_j exp(z_j) along ``axis`` (max subtracted first)."""
    xp = namespace(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_backward(dy, y, axis: int = -1):
    """dE/dz = y ∘ (dy - Σ_k dy_k y_k) for y = softmax(z)."""
    xp = namespace(dy, y)
    return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))


def log_softmax(z, axis: int = -1):
    """z_k - log Σ_j exp(z_j) along ``axis`` (log-sum-exp, stable)."""
    xp = namespace(z)
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis,
                                   keepdims=True))


def log_softmax_backward(dy, y, axis: int = -1):
    """dE/dz = dy - softmax(z) Σ_k dy_k for y = log_softmax(z)."""
    xp = namespace(dy, y)
    return dy - xp.exp(y) * xp.sum(dy, axis=axis, keepdims=True)


class Activation(NamedTuple):
    """An activation by name with its forward and output-based backward."""

    name: str
    forward: Callable[[Any], Any]
    backward: Callable[[Any, Any], Any]


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward),
    "tanh": Activation("tanh", tanh, tanh_backward),
    "relu": Activation("relu", relu, relu_backward),
    "identity": Activation("identity", identity, identity_backward),
    "softmax": Activation("softmax", softmax, softmax_backward),
    "log_softmax": Activation("log_softmax", log_softmax,
                              log_softmax_backward),
}


def get_activation(name: str) -> Activation:
    """The :class:`Activation` called ``name`` (e.g. ``"tanh"``)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of "
            f"{', '.join(ACTIVATIONS)}") from None
