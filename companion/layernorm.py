"""Layer normalisation in an Elman layer (Ba, Kiros & Hinton 2016; ch. 4).

The summed input of the H units is normalised over the units, at every
time step and for every sequence separately, then rescaled by a gain g
and shifted by a bias b_e (which moves after the normalisation, where it
is not removed by the centring):

    a(t)   = W_e X(t) + W_h h(t-1)                       (H,)
    μ(t)   = (1/H) Σ_i a_i(t)
    σ(t)²  = (1/H) Σ_i (a_i(t) - μ(t))²
    â(t)   = (a(t) - μ(t)) / sqrt(σ(t)² + ε)
    z_h(t) = g ∘ â(t) + b_e          h(t) = f_h(z_h(t))

Backward, from dh(t) = ∂E/∂h(t) (part 1 + part 2, as in RNNBACK):

    dz_h  = dh(t) ∘ f_h'(z_h(t))
    dg   += dz_h ∘ â(t)               db_e += dz_h
    dâ    = dz_h ∘ g
    da    = (dâ - mean_i(dâ) - â ∘ mean_i(dâ ∘ â)) / sqrt(σ² + ε)
    dW_e += da X(t)^T    dW_h += da h(t-1)^T    dh(t-1) = W_h^T da

(the last line of da: the derivative of â through μ and σ as well as
through a). The layer follows the protocol of ``companion.rnn`` that
``bptt`` drives (``hidden_forward``, ``backward``, ``state_at``,
``zero_state``); the output layer o(t) = f_s(W_s h(t) + b_s) is rnn's.

Shapes: x (T, B, D), h (B, H); W_e (H, D), W_h (H, H), b_e (H,), g (H,),
W_s (K, H), b_s (K,). A batched line is the transpose of its equation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import rnn
from ._validate import check_array, check_finite
from .activations import get_activation
from .backend import namespace, resolve, to_numpy

HIDDEN = ("W_e", "W_h", "b_e", "g")
EPS = 1e-5
zero_state = rnn.zero_state
state_at = rnn.state_at
output_forward = rnn.output_forward


class Norm(NamedTuple):
    """What the normalisation keeps for its backward pass."""

    a_hat: Any    # â = (a - μ) / sqrt(σ² + ε), (..., H)
    inv_std: Any  # 1 / sqrt(σ² + ε), (..., 1)


class Cache(NamedTuple):
    """What a whole sequence keeps for the backward pass."""

    x: Any        # inputs, (T, B, D)
    hs: Any       # h(0), ..., h(T), (T + 1, B, H)
    a_hat: Any    # â(1), ..., â(T), (T, B, H)
    inv_std: Any  # (T, B, 1)
    f_h: str


def normalise(a, g, b, eps: float = EPS):
    """z = g ∘ (a - μ) / sqrt(σ² + ε) + b over the last axis of a.

    Returns:
        (z of the shape of a, Norm).
    """
    xp = namespace(a)
    mu = xp.mean(a, axis=-1, keepdims=True)
    var = xp.mean((a - mu) ** 2, axis=-1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    a_hat = (a - mu) * inv_std
    return g * a_hat + b, Norm(a_hat, inv_std)


def normalise_backward(dz, g, norm: Norm):
    """From dz = ∂E/∂z: (da, dg, db), dg and db summed over the leading
    axes (the batch)."""
    xp = namespace(dz)
    lead = tuple(range(dz.ndim - 1))
    dg = xp.sum(dz * norm.a_hat, axis=lead)
    db = xp.sum(dz, axis=lead)
    d_hat = dz * g
    # through a directly, through μ (the mean) and through σ (the â term)
    da = (d_hat - xp.mean(d_hat, axis=-1, keepdims=True)
          - norm.a_hat * xp.mean(d_hat * norm.a_hat, axis=-1,
                                 keepdims=True)) * norm.inv_std
    return da, dg, db


def init_params(D: int, H: int, K: int | None, rng, recurrent="orthogonal",
                xp=None, dtype=None) -> dict[str, Any]:
    """rnn.init_params plus the gain g = 1 (H,); b_e = 0 is the shift."""
    be = resolve(xp)
    params = rnn.init_params(D, H, K, rng, recurrent, xp=be, dtype=dtype)
    params["g"] = be.xp.ones((H,), dtype=dtype or be.float_dtype,
                             device=be.device)
    return params


def _check(params, x, h0):
    if "g" not in params:
        raise ValueError(f"params has no 'g'; keys: {sorted(params)}")
    H = params["W_h"].shape[0]
    check_array(params["g"], "g", shape=(H,))
    rnn._check_hidden(params, x, h0)


def hidden_forward(params, x, h0, f_h: str = "tanh"):
    """The normalised recurrence over a sequence: h(1), ..., h(T).

    Returns:
        (hs (T, B, H), Cache).
    """
    _check(params, x, h0)
    f = rnn._activation(f_h, rnn.HIDDEN_ACTIVATIONS, "f_h")
    xp = namespace(x, h0)
    W_e, W_h = params["W_e"], params["W_h"]
    h, hs, hats, inv = h0, [h0], [], []
    for t in range(x.shape[0]):
        a = x[t, ...] @ W_e.T + h @ W_h.T    # a(t) = W_e X(t) + W_h h(t-1)
        z_h, norm = normalise(a, params["g"], params["b_e"])
        h = f.forward(z_h)                   # h(t) = f_h(g ∘ â(t) + b_e)
        hs.append(h)
        hats.append(norm.a_hat)
        inv.append(norm.inv_std)
    hs = xp.stack(hs, axis=0)
    return hs[1:, ...], Cache(x, hs, xp.stack(hats, axis=0),
                              xp.stack(inv, axis=0), f_h)


def step_backward(params, dh, cache: Cache, t: int):
    """One step back, from dh = ∂E/∂h(t+1) (0-based t into the cache).

    Returns:
        (dx_t (B, D), dh_prev = ∂E/∂h(t) (B, H), grads of W_e, W_h, b_e,
        g).
    """
    f = get_activation(cache.f_h)
    dz_h = f.backward(dh, cache.hs[t + 1, ...])  # dh ∘ f_h'(z_h)
    norm = Norm(cache.a_hat[t, ...], cache.inv_std[t, ...])
    da, dg, db = normalise_backward(dz_h, params["g"], norm)
    grads = {"W_e": da.T @ cache.x[t, ...],      # da X(t)^T
             "W_h": da.T @ cache.hs[t, ...],     # da h(t-1)^T
             "b_e": db, "g": dg}
    return da @ params["W_e"], da @ params["W_h"], grads  # W_h^T da


def hidden_backward(params, dhs, cache: Cache, dh_T=None) -> rnn.Backward:
    """Backward through the normalised recurrence, from dhs(t) =
    ∂E/∂h(t) given from outside, (T, B, H); nothing modified in place."""
    xp = namespace(dhs)
    T = cache.x.shape[0]
    check_array(dhs, "dhs", shape=(T,) + tuple(cache.hs.shape[1:]))
    grads = {k: xp.zeros_like(params[k]) for k in HIDDEN}
    dxs = [None] * T
    dh_next = xp.zeros_like(dhs[0, ...]) if dh_T is None else dh_T
    for t in reversed(range(T)):
        dh = dhs[t, ...] + dh_next               # part 1 + part 2
        dxs[t], dh_next, step = step_backward(params, dh, cache, t)
        grads = {k: grads[k] + step[k] for k in HIDDEN}
    return rnn.Backward(grads, xp.stack(dxs, axis=0), dh_next)


def forward(params, x, h0, f_h: str = "tanh", f_s: str = "identity"):
    """Outputs o(1..T) of a layer-normalised Elman layer.

    Returns:
        (o (T, B, K), rnn.State(h(T)), Cache).
    """
    check_finite(x, "x")
    hs, cache = hidden_forward(params, x, h0, f_h)
    o, _ = rnn.output_forward(params, hs, f_s)
    return o, rnn.State(hs[-1, ...]), cache


def backward(params, dz_s, cache: Cache, dh_T=None) -> rnn.Backward:
    """From dz_s(t) = ∂E/∂z_s(t), (T, B, K).

    Returns:
        Backward(grads {W_e, W_h, b_e, g, W_s, b_s}, dx, dh(0)).
    """
    check_array(dz_s, "dz_s", ndim=3)
    hs = cache.hs[1:, ...]
    if tuple(dz_s.shape[:2]) != tuple(hs.shape[:2]) or \
            dz_s.shape[2] != params["W_s"].shape[0]:
        raise ValueError(
            f"dz_s must have shape (T, B, K) = "
            f"{tuple(hs.shape[:2]) + (params['W_s'].shape[0],)}, "
            f"got {tuple(dz_s.shape)}")
    out_grads, dhs = rnn.output_backward(params, dz_s, hs)
    hidden = hidden_backward(params, dhs, cache, dh_T)
    grads = {**hidden.grads, **out_grads}
    return rnn.Backward({k: grads[k] for k in params}, hidden.dx,
                        hidden.dh0)


def state_gradient_norms(params, dh_T, cache: Cache) -> np.ndarray:
    """‖∂E/∂h(t)‖ for t = 0..T when only h(T) receives dh_T (B, H).

    Returns:
        A NumPy array (T + 1, B) on the host, time-major.
    """
    xp = namespace(dh_T)
    T = cache.x.shape[0]
    dh, norms = dh_T, [None] * (T + 1)
    norms[T] = xp.linalg.vector_norm(dh, axis=-1)
    for t in reversed(range(T)):
        _, dh, _ = step_backward(params, dh, cache, t)
        norms[t] = xp.linalg.vector_norm(dh, axis=-1)
    return to_numpy(xp.stack(norms, axis=0))
