"""Image captioning: one image in, a sentence out (one-to-many, ch. 9).

An image is summarised by a fixed feature vector v (F,) (a CNN's in the
papers); a recurrent layer (``rnn``, ``lstm`` or ``gru``, passed as
``model``) writes the caption word by word over V tokens, words then END
and START. The image enters the network in one of two ways, told apart by
the shapes of the params (``injection(params)``):

* ``"state"`` (the image sets the hidden state, as in Karpathy & Fei-Fei
  2015): h(0) = tanh(W_v v + b_v), W_v (H, F); (LSTM: c(0) = 0); the
  inputs are X(1) = START, X(t) = w(t-1), D = V;
* ``"input"`` (the image is the first input, as in Vinyals et al. 2015):
  h(0) = 0, X(0) = [0; W_v v + b_v] with W_v (E, F), then
  X(t) = [w(t-1); 0] from X(1) = START, D = V + E; the output of step 0
  is not scored.

Either way, for t = 1..T,

    h(t) = layer(X(t), h(t-1)),   o(t) = softmax(W_s h(t) + b_s),
    E = (1 / Σ m) Σ_t Σ_b m(t, b) (-ln o(t, b)[y(t, b)]),

with y(t) the caption's t-th word (END after the last) and m the mask,
1 up to and including END. Training feeds the true previous word
(teacher forcing); ``decode`` feeds back its own choice (argmax, or a
draw from softmax(z / temperature)).

Backward of the image path (from the layer's own backward):

    state:  da = ∂E/∂h(0) ∘ (1 - h(0)²)     input:  da = ∂E/∂X(0)[V:]
            dW_v = da^T v,  db_v = Σ_b da   (batched: v (B, F), da (B, ·)).

Shapes: v (B, F), word inputs x (T, B, V), targets y and mask (T, B).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import init, losses, rnn
from ._validate import check_array, check_finite
from .backend import device, make_rng, namespace, resolve, to_numpy
from .data.text import one_hot

INJECTIONS = ("state", "input")
IMAGE_KEYS = ("W_v", "b_v")


class Batch(NamedTuple):
    """Features v (B, F), word inputs x (T, B, V), targets y (T, B),
    mask (T, B), on the backend."""

    v: Any
    x: Any
    y: Any
    mask: Any


class Loss(NamedTuple):
    """E (mean over the scored words) and its gradients (keys of params)."""

    loss: float
    grads: dict


def init_params(F: int, H: int, V: int, rng, model=rnn,
                inject: str = "state", E: int | None = None, xp=None):
    """The layer's params (inputs V or V + E, outputs V) and W_v, b_v.

    W_v: Xavier uniform, (H, F) for ``"state"``, (E, F) for ``"input"``
    (E = H unless given); b_v zero.
    """
    if inject not in INJECTIONS:
        raise ValueError(f"inject must be one of {INJECTIONS}, got "
                         f"{inject!r}")
    rng = make_rng(rng)
    be = resolve(xp)
    rows = H if inject == "state" else (E or H)
    D = V if inject == "state" else V + rows
    params = model.init_params(D, H, V, rng, xp=be)
    params["W_v"] = init.xavier_uniform((rows, F), rng, xp=be)
    params["b_v"] = be.xp.zeros((rows,), dtype=params["W_v"].dtype,
                                device=be.device)
    return params


def cell_params(params) -> dict:
    """The recurrent layer's and the output layer's params (no W_v, b_v)."""
    return {k: v for k, v in params.items() if k not in IMAGE_KEYS}


def injection(params) -> str:
    """"state" or "input", from the shapes of the params."""
    key = next((k for k in ("W_e", "W_f", "W_z") if k in params), None)
    if key is None or "W_v" not in params or "W_s" not in params:
        raise ValueError(f"not captioning params; keys: {sorted(params)}")
    D, V, E = params[key].shape[1], params["W_s"].shape[0], \
        params["W_v"].shape[0]
    if D == V:
        return "state"
    if D == V + E:
        return "input"
    raise ValueError(f"the layer reads D = {D} inputs: expected V = {V} "
                     f"(state) or V + E = {V + E} (input)")


def batch(v, tokens, lengths, V: int, xp=None) -> Batch:
    """Teacher forcing from host captions: tokens (B, T) (words, END,
    padding), lengths (B,) words; X(1) = START = token V - 1."""
    tokens = np.asarray(tokens, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if tokens.ndim != 2 or lengths.shape != tokens.shape[:1]:
        raise ValueError(f"tokens must be (B, T) and lengths (B,), got "
                         f"{tokens.shape} and {lengths.shape}")
    if lengths.min() < 0 or lengths.max() >= tokens.shape[1]:
        raise ValueError(f"lengths must lie in [0, T - 1 = "
                         f"{tokens.shape[1] - 1}] (room for END), got "
                         f"[{lengths.min()}, {lengths.max()}]")
    start = np.full((tokens.shape[0], 1), V - 1, dtype=np.int64)
    inputs = np.concatenate([start, tokens[:, :-1]], axis=1)
    # step t counts while t <= L (the L words, then END)
    mask = np.arange(tokens.shape[1])[None, :] <= lengths[:, None]
    be = resolve(xp)
    return Batch(be.xp.asarray(np.asarray(v, dtype=np.float64),
                               dtype=be.float_dtype, device=be.device),
                 one_hot(inputs.T, V, xp=be),
                 be.xp.asarray(tokens.T, device=be.device),
                 be.xp.asarray(mask.T.astype(np.float64),
                               dtype=be.float_dtype, device=be.device))


def _set_h(state, h):
    """The state with h(0) = h (the LSTM's State keeps c(0))."""
    return state._replace(h=h) if hasattr(state, "_replace") else h


def _get_h(state):
    return state.h if hasattr(state, "_replace") else state


def _image_first(xp, a, V: int):
    """X(0) = [0; a] (1, B, V + E)."""
    zeros = xp.zeros((a.shape[0], V), dtype=a.dtype, device=device(a))
    return xp.concat([zeros, a], axis=1)[None, ...]


def _inputs(params, v, x, model):
    """(layer inputs, initial state, h(0) or None) for either way."""
    xp = namespace(v, x)
    cell, V = cell_params(params), params["W_s"].shape[0]
    a = v @ params["W_v"].T + params["b_v"]     # W_v v + b_v
    state0 = model.zero_state(cell, v.shape[0], v)
    if injection(params) == "state":
        h0 = xp.tanh(a)                          # h(0) = tanh(W_v v + b_v)
        return x, _set_h(state0, h0), h0
    pad = xp.zeros(tuple(x.shape[:2]) + (a.shape[1],), dtype=x.dtype,
                   device=device(x))
    words = xp.concat([x, pad], axis=2)          # X(t) = [w(t-1); 0]
    return xp.concat([_image_first(xp, a, V), words], axis=0), state0, None


def loss_and_grads(params, b: Batch, model=rnn,
                   f_h: str = "tanh") -> Loss:
    """E and its gradient for every key, image projection included."""
    check_array(b.v, "v", ndim=2)
    check_finite(b.v, "v")
    check_array(b.x, "x", ndim=3)
    if b.v.shape[1] != params["W_v"].shape[1]:
        raise ValueError(f"v must be (B, F = {params['W_v'].shape[1]}), "
                         f"got {tuple(b.v.shape)}")
    xp = namespace(b.v, b.x)
    cell = cell_params(params)
    xin, state0, h0 = _inputs(params, b.v, b.x, model)
    hs, cache = model.hidden_forward(cell, xin, state0, f_h)
    skip = 0 if h0 is not None else 1            # step 0 reads the image
    scored = hs[skip:, ...]
    z_s = scored @ params["W_s"].T + params["b_s"]
    res = losses.softmax_cross_entropy(z_s, b.y, b.mask, "mean")
    out_grads, dhs = rnn.output_backward(cell, res.grad, scored)
    if skip:
        dhs = xp.concat([xp.zeros_like(dhs[:1, ...]), dhs], axis=0)
    back = model.hidden_backward(cell, dhs, cache)
    if h0 is not None:
        da = _get_h(back.dh0) * (1.0 - h0 * h0)  # through tanh
    else:
        da = back.dx[0, :, params["W_s"].shape[0]:]  # ∂E/∂X(0)[V:]
    grads = {**back.grads, **out_grads,
             "W_v": da.T @ b.v, "b_v": xp.sum(da, axis=0)}
    return Loss(float(res.loss), {k: grads[k] for k in params})


def decode(params, v, n: int, model=rnn, f_h: str = "tanh",
           temperature: float = 0.0, rng=None):
    """n tokens per image, each fed back as the next input: host int64
    (B, n). temperature 0: argmax (greedy); > 0: a draw from
    softmax(z / temperature) with the host generator ``rng``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature > 0:
        rng = make_rng(0 if rng is None else rng)
    check_array(v, "v", ndim=2)
    xp = namespace(v)
    cell, V = cell_params(params), params["W_s"].shape[0]
    words = xp.eye(V, dtype=v.dtype, device=device(v))
    empty = xp.zeros((0, v.shape[0], V), dtype=v.dtype, device=device(v))
    xin, state, h0 = _inputs(params, v, empty, model)
    if h0 is None:                               # read the image first
        _, cache = model.hidden_forward(cell, xin, state, f_h)
        state = model.state_at(cache, 1)
        pad = xp.zeros((V, params["W_v"].shape[0]), dtype=v.dtype,
                       device=device(v))
        words = xp.concat([words, pad], axis=1)
    token = np.full(v.shape[0], V - 1, dtype=np.int64)   # START
    out = []
    for _ in range(n):
        x_t = xp.take(words, xp.asarray(token, device=device(v)),
                      axis=0)[None, ...]
        hs, cache = model.hidden_forward(cell, x_t, state, f_h)
        state = model.state_at(cache, 1)
        z = to_numpy(hs[0, ...] @ params["W_s"].T + params["b_s"])
        token = (z.argmax(axis=1) if temperature == 0
                 else _draw(z / temperature, rng))
        out.append(token)
    return np.stack(out, axis=1).astype(np.int64)


def _draw(z, rng) -> np.ndarray:
    """One index per row of host scores z (B, V) from softmax(z)."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(z.shape[0])[:, None]
    return np.minimum((cum < u).sum(axis=1), z.shape[1] - 1)
