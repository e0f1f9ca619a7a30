"""An encoder-decoder with additive (Bahdanau) attention (chapter 11).

The encoder (left to right, or bidirectional as in Bahdanau et al. 2015)
turns X(1..T_x) into states h_1..h_{T_x}. Before each output step t the
decoder scores every encoder state against its own previous state
s_{t-1}, and reads their weighted mean, the context c_t:

    e_tj = v_a^T tanh(W_a s_{t-1} + U_a h_j)        score, j = 1..T_x
    α_tj = exp(e_tj) / Σ_k exp(e_tk)                attention weights
    c_t  = Σ_j α_tj h_j                             context
    s_t  = layer_d([Y(t-1); c_t], s_{t-1}),  s_0 = 0
    o(t) = softmax(W_s s_t + b_s),    E = Σ_t -log o(t)[y(t)]

The decoder starts from zero: all it knows of the input comes through the
contexts (the plain ``companion.seq2seq`` passes everything through
h_e(T_x) instead). Backward, t = T_y..1, from ∂E/∂c_t (the context's
columns of the decoder's input gradient):

    ∂E/∂α_tj = <∂E/∂c_t, h_j>        ∂E/∂h_j += α_tj ∂E/∂c_t
    ∂E/∂e_tj = α_tj (∂E/∂α_tj - Σ_k α_tk ∂E/∂α_tk)         (softmax)
    δ_tj = ∂E/∂e_tj v_a ∘ (1 - a_tj²),   a_tj = tanh(W_a s_{t-1} + U_a h_j)
    dv_a += Σ_j ∂E/∂e_tj a_tj     dW_a += Σ_j δ_tj s_{t-1}^T
    ∂E/∂s_{t-1} += W_a^T Σ_j δ_tj     dU_a += δ_tj h_j^T
    ∂E/∂h_j += U_a^T δ_tj

and the gradients reaching the h_j go back through the encoder.

Keys: ``enc.*`` (a ``model`` layer, or ``enc.fwd.*`` and ``enc.bwd.*``
for a bidirectional encoder: the keys say which), ``dec.*`` (a ``model``
layer with D = V + 1 + H_e inputs and V outputs), and W_a (A, H), U_a
(A, H_e), v_a (A,). Shapes: x (T_x, B, D), encoder states (T_x, B, H_e)
with H_e = H or 2H, decoder state (B, H), α (T_y, T_x, B).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import bidirectional as bidir
from . import init, losses, rnn
from ._validate import check_array
from .activations import softmax
from .backend import device, namespace, resolve, to_numpy

ATTENTION = ("W_a", "U_a", "v_a")


class Attend(NamedTuple):
    """What one attention step keeps: s_{t-1} (B, H), a (T_x, B, A),
    α (T_x, B)."""

    s_prev: Any
    a: Any
    alpha: Any


class Loss(NamedTuple):
    """E (mean over the batch), its gradients, α (T_y, T_x, B)."""

    loss: float
    grads: dict
    alpha: Any


def init_params(D: int, H: int, V: int, A: int, rng, model=rnn,
                bidirectional: bool = True, xp=None) -> dict[str, Any]:
    """Encoder, decoder (V + 1 + H_e inputs, V outputs) and attention of
    A units; keys ``enc.*`` (``enc.fwd.*``, ``enc.bwd.*`` when
    bidirectional), ``dec.*``, W_a, U_a, v_a."""
    be = resolve(xp)
    enc = (bidir.init_params(D, H, None, rng, model, xp=xp) if bidirectional
           else model.init_params(D, H, None, rng, xp=xp))
    H_e = 2 * H if bidirectional else H
    dec = model.init_params(V + 1 + H_e, H, V, rng, xp=xp)
    att = {"W_a": init.xavier_uniform((A, H), rng, xp=be),
           "U_a": init.xavier_uniform((A, H_e), rng, xp=be),
           "v_a": init.xavier_uniform((1, A), rng, xp=be)[0, ...]}
    return {**{"enc." + k: v for k, v in enc.items()},
            **{"dec." + k: v for k, v in dec.items()}, **att}


def part(params, prefix: str) -> dict:
    """The parameters of one layer: ``part(params, "enc")``."""
    if prefix not in ("enc", "dec"):
        raise ValueError(f"prefix must be 'enc' or 'dec', got {prefix!r}")
    n = len(prefix) + 1
    return {k[n:]: v for k, v in params.items()
            if k.startswith(prefix + ".")}


def encoder(params, model=rnn):
    """The encoder's module: ``bidirectional.Layer(model)`` if the keys
    hold ``enc.fwd.*``, else ``model``."""
    if any(k.startswith("enc.fwd.") for k in params):
        return bidir.Layer(model)
    return model


def encode(params, x, model=rnn, f_h: str = "tanh"):
    """The encoder's states h_1..h_{T_x} (T_x, B, H_e) and its cache."""
    check_array(x, "x", ndim=3)
    enc, layer = part(params, "enc"), encoder(params, model)
    return layer.hidden_forward(enc, x, layer.zero_state(enc, x.shape[1], x),
                                f_h)


def attend(params, s_prev, hs, Uh):
    """One step: α_tj = softmax_j(v_a^T tanh(W_a s_{t-1} + U_a h_j)) and
    c_t = Σ_j α_tj h_j.

    Args:
        s_prev: s_{t-1} (B, H); hs: h_j (T_x, B, H_e); Uh: U_a h_j
            (T_x, B, A), computed once per sequence.

    Returns:
        (c_t (B, H_e), α_t (T_x, B), Attend cache).
    """
    xp = namespace(hs)
    a = xp.tanh(Uh + s_prev @ params["W_a"].T)   # (T_x, B, A)
    alpha = softmax(a @ params["v_a"], axis=0)    # over j = 1..T_x
    c = xp.sum(alpha[..., None] * hs, axis=0)     # Σ_j α_tj h_j
    return c, alpha, Attend(s_prev, a, alpha)


def attend_backward(params, dc, hs, cache: Attend):
    """Back through one step from dc = ∂E/∂c_t (B, H_e).

    Returns:
        (∂E/∂s_{t-1} (B, H), ∂E/∂h_j through c_t (T_x, B, H_e),
        ∂E/∂(U_a h_j) (T_x, B, A), grads of W_a and v_a).
    """
    xp = namespace(dc)
    alpha, a = cache.alpha, cache.a
    dalpha = xp.sum(dc[None, ...] * hs, axis=2)   # <∂E/∂c_t, h_j>
    dhs = alpha[..., None] * dc[None, ...]
    de = alpha * (dalpha - xp.sum(alpha * dalpha, axis=0))
    dpre = de[..., None] * params["v_a"] * (1.0 - a * a)  # δ_tj
    dsum = xp.sum(dpre, axis=0)                   # Σ_j δ_tj, (B, A)
    grads = {"W_a": dsum.T @ cache.s_prev,
             "v_a": xp.sum(de[..., None] * a, axis=(0, 1))}
    return dsum @ params["W_a"], dhs, dpre, grads


def _h(state):
    """The hidden vector s of a model's state (LSTM: State.h)."""
    return getattr(state, "h", state)


def _step_state(state):
    """A model's state as its step functions take it (rnn.State(h))."""
    return state if isinstance(state, tuple) else rnn.State(state)


def _decode(params, hs, model, f_h, y_in=None, n=None):
    """The decoder over teacher-forced inputs y_in (T_y, B, V+1), or n
    greedy steps: (logits (T_y, B, V), per-step caches)."""
    xp = namespace(hs)
    dec = part(params, "dec")
    V, B = dec["W_s"].shape[0], hs.shape[1]
    Uh = hs @ params["U_a"].T                     # U_a h_j, once
    state = _step_state(model.zero_state(dec, B, hs))
    eye = xp.eye(V + 1, dtype=hs.dtype, device=device(hs))
    symbols = xp.full((B,), V, dtype=xp.int64, device=device(hs))
    zs, steps = [], []
    for t in range(y_in.shape[0] if n is None else n):
        y_t = (y_in[t, ...] if n is None else xp.take(eye, symbols, axis=0))
        c, _, att = attend(params, _h(state), hs, Uh)
        state, step = model.step_forward(dec, xp.concat([y_t, c], axis=1),
                                         state, f_h)
        z = _h(state) @ dec["W_s"].T + dec["b_s"]  # W_s s_t + b_s
        symbols = xp.argmax(z, axis=1)
        zs.append(z)
        steps.append((att, step, _h(state)))
    return xp.stack(zs, axis=0), steps, Uh


def loss_and_grads(params, x, y_in, y, model=rnn, f_h: str = "tanh",
                   mask=None) -> Loss:
    """E, its gradient and the weights α for inputs x (T_x, B, D),
    decoder inputs y_in (T_y, B, V+1) (``seq2seq.decoder_inputs``) and
    targets y (T_y, B) indices."""
    check_array(y_in, "y_in", ndim=3)
    xp = namespace(x)
    hs, enc_cache = encode(params, x, model, f_h)
    z, steps, Uh = _decode(params, hs, model, f_h, y_in=y_in)
    res = losses.softmax_cross_entropy(z, y, mask, "batch")
    dec = part(params, "dec")
    V1 = y_in.shape[2]
    S = xp.stack([s for _, _, s in steps], axis=0)  # s_1..s_{T_y}
    out_grads, dS = rnn.output_backward(dec, res.grad, S)
    grads = {"dec." + k: v for k, v in out_grads.items()}
    grads.update({k: xp.zeros_like(params[k]) for k in ("W_a", "v_a")})
    dhs, dUh = xp.zeros_like(hs), xp.zeros_like(Uh)
    dstate = model.zero_state(dec, x.shape[1], x)
    for t in reversed(range(len(steps))):
        att, step, _ = steps[t]
        dstate = _add_h(dstate, dS[t, ...])       # W_s^T dz_s(t)
        dinp, dstate, g = model.step_backward(dec, dstate, step)
        for k, v in g.items():
            key = "dec." + k
            grads[key] = v if key not in grads else grads[key] + v
        ds_prev, dh_c, dpre, g = attend_backward(params, dinp[:, V1:], hs,
                                                 att)
        grads["W_a"] = grads["W_a"] + g["W_a"]
        grads["v_a"] = grads["v_a"] + g["v_a"]
        dhs, dUh = dhs + dh_c, dUh + dpre
        dstate = _add_h(dstate, ds_prev)          # s_{t-1} feeds α_t too
    A, H_e = Uh.shape[2], hs.shape[2]
    grads["U_a"] = (xp.reshape(dUh, (-1, A)).T
                    @ xp.reshape(hs, (-1, H_e)))  # Σ δ_tj h_j^T
    dhs = dhs + dUh @ params["U_a"]
    enc = part(params, "enc")
    back = encoder(params, model).hidden_backward(enc, dhs, enc_cache)
    grads.update({"enc." + k: v for k, v in back.grads.items()})
    alpha = xp.stack([att.alpha for att, _, _ in steps], axis=0)
    return Loss(float(res.loss), {k: grads[k] for k in params}, alpha)


def _add_h(dstate, dh):
    """dstate with dh added to its h part (LSTM: State(dh, dc))."""
    if isinstance(dstate, tuple):
        return dstate._replace(h=dstate.h + dh)
    return dstate + dh


def greedy_decode(params, x, n: int, model=rnn, f_h: str = "tanh"):
    """n symbols per sequence, each the argmax of o(t) fed back as the
    next input: (host int64 (B, n), host α (n, T_x, B))."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    hs, _ = encode(params, x, model, f_h)
    z, steps, _ = _decode(params, hs, model, f_h, n=n)
    xp = namespace(x)
    alpha = xp.stack([att.alpha for att, _, _ in steps], axis=0)
    out = to_numpy(xp.argmax(z, axis=2)).T.astype(np.int64)
    return out, to_numpy(alpha)
