"""The Elman network: RNNRUN and RNNBACK of the lectures (chapters 1-3).

Forward (RNNRUN), for t = 1, ..., T:

    z_h(t) = W_e X(t) + W_h h(t-1) + b_e        h(t) = f_h(z_h(t))
    z_s(t) = W_s h(t) + b_s                     o(t) = f_s(z_s(t))

Backward (RNNBACK), for t = T, ..., 1, starting from dz_s(t) = ∂E/∂z_s(t)
(o(t) - y(t) for softmax + cross-entropy or identity + squared error):

    db_s += dz_s(t)             dW_s += dz_s(t) h(t)^T
    dh(t)   = W_s^T dz_s(t)     + dh(t)  from step t+1      (part 1 + 2)
    dz_h(t) = dh(t) ∘ f_h'(z_h(t))
    dW_e += dz_h(t) X(t)^T      db_e += dz_h(t)     dW_h += dz_h(t) h(t-1)^T
    dh(t-1) = W_h^T dz_h(t)                                 (part 2)

returning dW_e, dW_h, dW_s, db_e, db_s and dh(0). The hidden recurrence
(``hidden_forward`` / ``hidden_backward``) is separate from the output
layer, so that layers stack: the states of layer l are the inputs of
layer l + 1 (``stack_forward`` / ``stack_backward``).

Shapes: x (T, B, D), h (B, H), outputs (T, B, K); weights in math shape,
W_e (H, D), W_h (H, H), b_e (H,), W_s (K, H), b_s (K,). A batched line is
the transpose of its equation.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from . import init, stacking
from ._validate import check_array, check_finite, check_floating
from .activations import get_activation
from .backend import device, namespace, resolve

HIDDEN = ("W_e", "W_h", "b_e")
OUTPUT = ("W_s", "b_s")
HIDDEN_ACTIVATIONS = ("tanh", "relu", "sigmoid")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "softmax")


class State(NamedTuple):
    """The hidden state h(t), shape (B, H)."""

    h: Any


class StepCache(NamedTuple):
    """What one step keeps for its backward pass."""

    x: Any        # X(t), (B, D)
    h_prev: Any   # h(t-1), (B, H)
    h: Any        # h(t) = f_h(z_h(t)), (B, H)
    f_h: str


class Cache(NamedTuple):
    """What a whole sequence keeps for RNNBACK."""

    x: Any        # inputs, (T, B, D)
    hs: Any       # h(0), ..., h(T), (T + 1, B, H)
    f_h: str


class Backward(NamedTuple):
    """Gradients with the keys of the params, and those of the inputs."""

    grads: dict[str, Any]
    dx: Any       # ∂E/∂X(t), (T, B, D)
    dh0: Any      # ∂E/∂h(0), (B, H)


def init_params(D: int, H: int, K: int | None, rng, recurrent="orthogonal",
                xp=None, dtype=None) -> dict[str, Any]:
    """Parameters of an Elman layer (K=None: hidden layer only).

    W_e, W_s: Xavier uniform; W_h: ``"orthogonal"``, ``"xavier"`` or
    ``"identity"`` (IRNN); biases zero.

    Returns:
        {"W_e": (H, D), "W_h": (H, H), "b_e": (H,), "W_s": (K, H),
        "b_s": (K,)}.
    """
    be = resolve(xp)
    W_h = {"orthogonal": lambda: init.orthogonal((H, H), rng, xp=be,
                                                 dtype=dtype),
           "xavier": lambda: init.xavier_uniform((H, H), rng, xp=be,
                                                 dtype=dtype),
           "identity": lambda: init.identity(H, xp=be, dtype=dtype)}
    if recurrent not in W_h:
        raise ValueError(f"recurrent must be one of {sorted(W_h)}, "
                         f"got {recurrent!r}")
    params = {"W_e": init.xavier_uniform((H, D), rng, xp=be, dtype=dtype),
              "W_h": W_h[recurrent](),
              "b_e": be.xp.zeros((H,), dtype=dtype or be.float_dtype,
                                 device=be.device)}
    if K is not None:
        params["W_s"] = init.xavier_uniform((K, H), rng, xp=be, dtype=dtype)
        params["b_s"] = be.xp.zeros((K,), dtype=dtype or be.float_dtype,
                                    device=be.device)
    return params


def zero_state(params, B: int, like):
    """h(0) = 0 of shape (B, H), on the device and in the dtype of
    ``like``. (The sequence functions take h(0) itself as the state.)"""
    xp = namespace(like)
    return xp.zeros((B, params["W_h"].shape[0]), dtype=like.dtype,
                    device=device(like))


def state_at(cache: Cache, t: int):
    """The state h(t) after t steps of the sequence of ``cache``."""
    return cache.hs[t, ...]


def _activation(name: str, allowed: tuple[str, ...], role: str):
    if name not in allowed:
        raise ValueError(f"{role} must be one of {allowed}, got {name!r}")
    return get_activation(name)


def _check_hidden(params, x, h0):
    """Validate the shapes of x (T, B, D) and h(0) (B, H) against params."""
    for key in HIDDEN:
        if key not in params:
            raise ValueError(f"params has no {key!r}; keys: {sorted(params)}")
    H, D = params["W_e"].shape
    check_array(params["W_h"], "W_h", shape=(H, H))
    check_array(params["b_e"], "b_e", shape=(H,))
    check_array(x, "x", ndim=3)
    check_floating(x, "x")
    if x.shape[2] != D:
        raise ValueError(f"x has D = {x.shape[2]} features per step, but "
                         f"W_e of shape {tuple(params['W_e'].shape)} "
                         f"expects D = {D}")
    if x.shape[0] < 1:
        raise ValueError(f"x has T = 0 time steps: shape {tuple(x.shape)}")
    check_array(h0, "h0", shape=(x.shape[1], H))


def step_forward(params, x_t, state: State, f_h: str = "tanh"):
    """One step of RNNRUN's recurrence: h(t) = f_h(W_e X(t) + W_h h(t-1)
    + b_e).

    Args:
        params: holds W_e (H, D), W_h (H, H), b_e (H,).
        x_t: X(t), (B, D).
        state: State(h(t-1)), h of shape (B, H).

    Returns:
        (State(h(t)), StepCache).
    """
    f = _activation(f_h, HIDDEN_ACTIVATIONS, "f_h")
    W_e, W_h, b_e = params["W_e"], params["W_h"], params["b_e"]
    # h(t) = f_h(W_e X(t) + W_h h(t-1) + b_e), batched: the transpose
    h = f.forward(x_t @ W_e.T + state.h @ W_h.T + b_e)
    return State(h), StepCache(x_t, state.h, h, f_h)


def step_backward(params, dh, cache: StepCache):
    """One step of RNNBACK's recurrence, from dh = ∂E/∂h(t) (part 1 + 2).

    Returns:
        (dx_t (B, D), dh_prev = ∂E/∂h(t-1) (B, H), grads of W_e, W_h, b_e).
    """
    xp = namespace(dh)
    f = get_activation(cache.f_h)
    dz_h = f.backward(dh, cache.h)               # dh(t) ∘ f_h'(z_h(t))
    grads = {"W_e": dz_h.T @ cache.x,            # dz_h(t) X(t)^T
             "W_h": dz_h.T @ cache.h_prev,       # dz_h(t) h(t-1)^T
             "b_e": xp.sum(dz_h, axis=0)}
    return dz_h @ params["W_e"], dz_h @ params["W_h"], grads


def hidden_forward(params, x, h0, f_h: str = "tanh"):
    """RNNRUN's recurrence over a sequence: h(1), ..., h(T).

    Args:
        x: inputs (T, B, D); h0: h(0), (B, H).

    Returns:
        (hs (T, B, H) the states h(1..T), Cache).
    """
    _check_hidden(params, x, h0)
    _activation(f_h, HIDDEN_ACTIVATIONS, "f_h")
    xp = namespace(x, h0)
    state, states = State(h0), [h0]
    for t in range(x.shape[0]):
        state, _ = step_forward(params, x[t, ...], state, f_h)
        states.append(state.h)
    hs = xp.stack(states, axis=0)
    return hs[1:, ...], Cache(x, hs, f_h)


def hidden_backward(params, dhs, cache: Cache, dh_T=None) -> Backward:
    """RNNBACK's recurrence, from dhs(t) = ∂E/∂h(t) given from outside
    (the output layer, or the layer above), t = 1..T, shape (T, B, H).

    ``dh_T`` is an extra gradient reaching h(T) (None: zero). The
    accumulation over time is explicit; nothing is modified in place.
    """
    xp = namespace(dhs)
    T = cache.x.shape[0]
    check_array(dhs, "dhs", shape=(T,) + tuple(cache.hs.shape[1:]))
    grads = {k: xp.zeros_like(params[k]) for k in HIDDEN}
    dxs = [None] * T
    dh_next = xp.zeros_like(dhs[0, ...]) if dh_T is None else dh_T
    for t in reversed(range(T)):
        dh = dhs[t, ...] + dh_next               # part 1 + part 2
        step = StepCache(cache.x[t, ...], cache.hs[t, ...],
                         cache.hs[t + 1, ...], cache.f_h)
        dxs[t], dh_next, g = step_backward(params, dh, step)
        grads = {k: grads[k] + g[k] for k in HIDDEN}
    return Backward(grads, xp.stack(dxs, axis=0), dh_next)


def output_forward(params, hs, f_s: str = "identity"):
    """o(t) = f_s(W_s h(t) + b_s) for all t. Returns (o, z_s), (T, B, K)."""
    f = _activation(f_s, OUTPUT_ACTIVATIONS, "f_s")
    z_s = hs @ params["W_s"].T + params["b_s"]   # W_s h(t) + b_s
    return f.forward(z_s), z_s


def output_backward(params, dz_s, hs):
    """From dz_s (T, B, K): (grads of W_s, b_s, and dhs = W_s^T dz_s)."""
    xp = namespace(dz_s)
    K, H = params["W_s"].shape
    flat_dz = xp.reshape(dz_s, (-1, K))
    grads = {"W_s": flat_dz.T @ xp.reshape(hs, (-1, H)),  # Σ_t dz_s h^T
             "b_s": xp.sum(flat_dz, axis=0)}
    return grads, dz_s @ params["W_s"]


def forward(params, x, h0, f_h: str = "tanh", f_s: str = "identity"):
    """RNNRUN: outputs o(1..T) of an Elman layer.

    Returns:
        (o (T, B, K), State(h(T)), Cache).
    """
    # data with NaN/inf would spread silently (states that diverge in
    # training are the caller's to see: they are not checked)
    check_finite(x, "x")
    hs, cache = hidden_forward(params, x, h0, f_h)
    o, _ = output_forward(params, hs, f_s)
    return o, State(hs[-1, ...]), cache


def backward(params, dz_s, cache: Cache, dh_T=None) -> Backward:
    """RNNBACK from dz_s(t) = ∂E/∂z_s(t), (T, B, K).

    Returns:
        Backward(grads {W_e, W_h, b_e, W_s, b_s}, dx, dh(0)).
    """
    check_array(dz_s, "dz_s", ndim=3)
    hs = cache.hs[1:, ...]
    if tuple(dz_s.shape[:2]) != tuple(hs.shape[:2]) or \
            dz_s.shape[2] != params["W_s"].shape[0]:
        raise ValueError(
            f"dz_s must have shape (T, B, K) = "
            f"{tuple(hs.shape[:2]) + (params['W_s'].shape[0],)}, "
            f"got {tuple(dz_s.shape)}")
    out_grads, dhs = output_backward(params, dz_s, hs)
    hidden = hidden_backward(params, dhs, cache, dh_T)
    grads = {**hidden.grads, **out_grads}
    return Backward({k: grads[k] for k in params}, hidden.dx, hidden.dh0)


# -- stacked (deep) layers ----------------------------------------------


def num_layers(params) -> int:
    """The number L of stacked layers held by ``params`` (keys W_e_l)."""
    return stacking.num_layers(params, "W_e")


def layer(params, index: int) -> dict[str, Any]:
    """The hidden parameters of layer ``index`` (1 = the lowest)."""
    return {k: params[f"{k}_{index}"] for k in HIDDEN}


def init_stack(D: int, sizes, K: int, rng, recurrent="orthogonal",
               xp=None, dtype=None) -> dict[str, Any]:
    """Parameters of L stacked layers of sizes H_1..H_L and one output.

    Keys W_e_l, W_h_l, b_e_l for l = 1..L, then W_s (K, H_L), b_s (K,).
    """
    def one(fan_in, H, top):
        return init_params(fan_in, H, K if top else None, rng, recurrent,
                           xp=xp, dtype=dtype)
    return stacking.init_stack(one, lambda p: HIDDEN, D, sizes, OUTPUT)


def stack_forward(params, x, h0s, f_h: str = "tanh",
                  f_s: str = "identity"):
    """A deep RNN: h_l(t) = f_h(W_e_l h_{l-1}(t) + W_h_l h_l(t-1) + b_e_l)
    with h_0(t) = X(t); the output reads the top layer
    (``companion.stacking``).

    Args:
        h0s: list of h_l(0), one (B, H_l) per layer.

    Returns:
        (o (T, B, K), [State(h_l(T))], [Cache per layer]).
    """
    # data with NaN/inf would spread silently (states that diverge in
    # training are the caller's to see: they are not checked)
    check_finite(x, "x")
    o, finals, caches = stacking.forward(sys.modules[__name__], params, x,
                                         h0s, f_h, f_s, "h0s")
    return o, [State(h) for h in finals], caches


def stack_backward(params, dz_s, caches, dh_Ts=None) -> Backward:
    """RNNBACK through the stack: each layer's dx is the dhs of the one
    below. ``dh_Ts``: optional gradients reaching each h_l(T); ``dh0`` is
    the list of ∂E/∂h_l(0)."""
    return stacking.backward(sys.modules[__name__], params, dz_s, caches,
                             dh_Ts, "dh_Ts")
