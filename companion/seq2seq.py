"""An encoder-decoder (sequence to sequence) with two recurrent layers
(chapter 8).

The encoder reads the input X(1..T_x) and its final state is the whole
summary of the input; the decoder starts from it:

    encoder:  h_e(t) = layer_e(X(t), h_e(t-1)),  h_e(0) = 0,
    decoder:  h_d(0) = h_e(T_x),
              h_d(t) = layer_d(Y(t-1), h_d(t-1)),  Y(0) = <go>,
              o(t) = softmax(W_s h_d(t) + b_s),
    E = Σ_t -log o(t)[y(t)]   (summed over t, mean over the batch).

Training feeds the true previous symbol Y(t-1) to the decoder (teacher
forcing); ``greedy_decode`` feeds back its own argmax instead. The
gradient reaching h_d(0) is passed into the encoder as the gradient of
its final state, so one backward pass trains both layers.

Both layers follow the model protocol of ``companion.bptt`` (``rnn``,
``lstm`` or ``gru``). The parameters live in one dict with the keys of
the two layers prefixed by ``enc.`` and ``dec.`` (so every optimizer of
``companion.optim`` applies unchanged). The decoder's inputs are one-hot
vectors of V + 1 symbols: the V output symbols and <go> (index V).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import losses, rnn
from ._validate import check_array
from .backend import device, namespace, to_numpy
from .data.text import one_hot


class Loss(NamedTuple):
    """E (mean over the batch) and its gradients (keys of the params)."""

    loss: float
    grads: dict


def init_params(D: int, H: int, V: int, rng, model=rnn, xp=None):
    """Encoder (D inputs, no output layer) and decoder (V + 1 inputs,
    V outputs), both of H units; keys ``enc.*`` and ``dec.*``."""
    enc = model.init_params(D, H, None, rng, xp=xp)
    dec = model.init_params(V + 1, H, V, rng, xp=xp)
    return {**{"enc." + k: v for k, v in enc.items()},
            **{"dec." + k: v for k, v in dec.items()}}


def part(params, prefix: str) -> dict:
    """The parameters of one layer: ``part(params, "enc")``."""
    if prefix not in ("enc", "dec"):
        raise ValueError(f"prefix must be 'enc' or 'dec', got {prefix!r}")
    n = len(prefix) + 1
    return {k[n:]: v for k, v in params.items() if k.startswith(prefix)}


def decoder_inputs(y, V: int, xp=None):
    """Teacher forcing: one-hot of <go>, y(1), ..., y(T-1); (T, B, V+1)
    from host targets y (B, T)."""
    y = np.asarray(y, dtype=np.int64)
    if y.ndim != 2:
        raise ValueError(f"y must be (B, T), got shape {y.shape}")
    go = np.full((y.shape[0], 1), V, dtype=np.int64)
    shifted = np.concatenate([go, y[:, :-1]], axis=1)
    return one_hot(shifted.T, V + 1, xp=xp)


def encode(params, x, model=rnn, f_h: str = "tanh"):
    """The encoder over x (T_x, B, D) from h_e(0) = 0: (final state,
    cache)."""
    check_array(x, "x", ndim=3)
    enc = part(params, "enc")
    _, cache = model.hidden_forward(
        enc, x, model.zero_state(enc, x.shape[1], x), f_h)
    return model.state_at(cache, x.shape[0]), cache


def loss_and_grads(params, x, y_in, y, model=rnn, f_h: str = "tanh",
                   mask=None) -> Loss:
    """E and its gradient for inputs x (T_x, B, D), decoder inputs y_in
    (T_y, B, V+1) (``decoder_inputs``) and targets y (T_y, B) indices."""
    check_array(y_in, "y_in", ndim=3)
    enc, dec = part(params, "enc"), part(params, "dec")
    state, enc_cache = encode(params, x, model, f_h)
    hs, dec_cache = model.hidden_forward(dec, y_in, state, f_h)
    z_s, _ = rnn.output_forward(dec, hs, "identity")
    res = losses.softmax_cross_entropy(z_s, y, mask, "batch")
    back = model.backward(dec, res.grad, dec_cache)
    xp = namespace(x)
    dhs = xp.zeros_like(enc_cache.hs[1:, ...])
    # ∂E/∂h_d(0) is the gradient of the encoder's final state
    enc_back = model.hidden_backward(enc, dhs, enc_cache, back.dh0)
    grads = {**{"enc." + k: v for k, v in enc_back.grads.items()},
             **{"dec." + k: v for k, v in back.grads.items()}}
    return Loss(float(res.loss), {k: grads[k] for k in params})


def greedy_decode(params, x, n: int, model=rnn, f_h: str = "tanh"):
    """n symbols per sequence, each the argmax of o(t) fed back as the
    next input: host int64 (B, n)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    dec = part(params, "dec")
    V = dec["W_s"].shape[0]
    state, _ = encode(params, x, model, f_h)
    xp = namespace(x)
    eye = xp.eye(V + 1, dtype=x.dtype, device=device(x))
    symbols = xp.full((x.shape[1],), V, dtype=xp.int64, device=device(x))
    out = []
    for _ in range(n):
        y_t = xp.take(eye, symbols, axis=0)[None, ...]
        hs, cache = model.hidden_forward(dec, y_t, state, f_h)
        state = model.state_at(cache, 1)
        z = hs[0, ...] @ dec["W_s"].T + dec["b_s"]
        symbols = xp.argmax(z, axis=1)
        out.append(symbols)
    return to_numpy(xp.stack(out, axis=1)).astype(np.int64)
