"""The gated recurrent unit (GRU) in two conventions (chapter 6).

Both have an update gate z(t) and a reset gate r(t), for t = 1..T,

    z(t) = σ(W_z X(t) + U_z h(t-1) + b_z)          update gate
    r(t) = σ(W_r X(t) + U_r h(t-1) + b_r)          reset gate

and differ in the candidate state and in which side z weights.

"lecture" (the lectures; Chung et al. 2014): the reset gate acts on
h(t-1) *before* the recurrent product, and z weights the candidate,

    h~(t) = f_h(W_h X(t) + U_h (r(t) ∘ h(t-1)) + b_h)
    h(t)  = (1 - z(t)) ∘ h(t-1) + z(t) ∘ h~(t)

"pytorch" (``torch.nn.GRU``): the reset gate acts *after* the product,
on a bias of its own b_hn, and z weights the old state (as in Cho et
al. 2014),

    n(t) = f_h(W_h X(t) + b_in + r(t) ∘ (U_h h(t-1) + b_hn))
    h(t) = (1 - z(t)) ∘ n(t) + z(t) ∘ h(t-1)

Negating W_z, U_z, b_z swaps the two update rules exactly (σ(-a) =
1 - σ(a)); the reset placement is not a reparameterization:
r ∘ (U_h h) ≠ U_h (r ∘ h) unless U_h is diagonal or r ≡ 1.

The params record the convention by their keys: the candidate bias is
``b_h`` in the lecture convention and the pair ``b_in``, ``b_hn`` in
PyTorch's (``convention(params)``). W_* are (H, D), U_* (H, H), b_* (H,);
the output layer o(t) = f_s(W_s h(t) + b_s) is ``rnn``'s. Shapes: x
(T, B, D), h (B, H); the state is h itself, as in ``rnn``; f_h is one
of ``rnn.HIDDEN_ACTIVATIONS`` (tanh by default). Drivers of
``companion.bptt`` take this module as ``model``.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from . import fused, init, rnn, stacking
from ._validate import check_array, check_finite, check_floating
from .activations import get_activation, sigmoid
from .backend import device, namespace, resolve
from .rnn import Backward, State

# the output layer is rnn's (companion.stacking reads it from here)
output_forward, output_backward = rnn.output_forward, rnn.output_backward

GATES = ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h")
KEYS = {"lecture": GATES + ("b_h",), "pytorch": GATES + ("b_in", "b_hn")}
CONVENTIONS = tuple(KEYS)


class StepCache(NamedTuple):
    """What one step keeps for its backward pass (all (B, ·))."""

    x: Any        # X(t), (B, D)
    h_prev: Any   # h(t-1), (B, H)
    z: Any        # update gate z(t)
    r: Any        # reset gate r(t)
    c: Any        # candidate h~(t) (lecture) or n(t) (pytorch)
    inner: Any    # r ∘ h(t-1) (lecture) or U_h h(t-1) + b_hn (pytorch)
    f_h: str


class Cache(NamedTuple):
    """What a sequence keeps: x (T, B, D), hs (T + 1, B, H), the gates,
    candidates and inner terms (T, B, H) of every step, f_h."""

    x: Any
    hs: Any
    z: Any
    r: Any
    c: Any
    inner: Any
    f_h: str


def convention(params) -> str:
    """"pytorch" if params hold b_hn, "lecture" if they hold b_h."""
    has_h, has_hn = "b_h" in params, "b_hn" in params
    if has_h == has_hn:
        raise ValueError("GRU params must hold either b_h (lecture "
                         "convention) or b_in and b_hn (pytorch); "
                         f"keys: {sorted(params)}")
    return "pytorch" if has_hn else "lecture"


def init_params(D: int, H: int, K: int | None, rng,
                convention: str = "lecture", xp=None,
                dtype=None) -> dict[str, Any]:
    """GRU parameters (K=None: hidden layer only).

    W_* Xavier uniform (H, D), U_* orthogonal (H, H), biases zero;
    W_s (K, H) Xavier, b_s (K,) zero. Keys: ``KEYS[convention]``, then
    W_s, b_s.
    """
    if convention not in KEYS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got "
                         f"{convention!r}")
    be = resolve(xp)
    dtype = dtype or be.float_dtype
    params = {}
    for key in KEYS[convention]:
        if key[0] == "W":
            params[key] = init.xavier_uniform((H, D), rng, xp=be,
                                              dtype=dtype)
        elif key[0] == "U":
            params[key] = init.orthogonal((H, H), rng, xp=be, dtype=dtype)
        else:
            params[key] = be.xp.zeros((H,), dtype=dtype, device=be.device)
    if K is not None:
        params["W_s"] = init.xavier_uniform((K, H), rng, xp=be, dtype=dtype)
        params["b_s"] = be.xp.zeros((K,), dtype=dtype, device=be.device)
    return params


def parameter_count(D: int, H: int, K: int | None,
                    convention: str = "lecture") -> int:
    """3 (H D + H H + H) (+ H for pytorch's b_hn) + K H + K."""
    if convention not in KEYS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got "
                         f"{convention!r}")
    count = 3 * (H * D + H * H + H) + (H if convention == "pytorch" else 0)
    return count + (0 if K is None else K * H + K)


def zero_state(params, B: int, like):
    """h(0) = 0 of shape (B, H), on the device and in the dtype of
    ``like``."""
    xp = namespace(like)
    return xp.zeros((B, params["U_h"].shape[0]), dtype=like.dtype,
                    device=device(like))


def state_at(cache: Cache, t: int):
    """The state h(t) after t steps of the sequence of ``cache``."""
    return cache.hs[t, ...]


def _check_hidden(params, x, h0, f_h):
    """Validate keys, shapes, x (T, B, D), h(0) (B, H) and f_h."""
    for key in KEYS[convention(params)]:
        if key not in params:
            raise ValueError(f"params has no {key!r}; keys: {sorted(params)}")
    H, D = params["W_h"].shape
    for key in KEYS[convention(params)]:
        want = {"W": (H, D), "U": (H, H), "b": (H,)}[key[0]]
        check_array(params[key], key, shape=want)
    check_array(x, "x", ndim=3)
    check_floating(x, "x")
    if x.shape[2] != D:
        raise ValueError(f"x has D = {x.shape[2]} features per step, but "
                         f"W_h of shape {tuple(params['W_h'].shape)} "
                         f"expects D = {D}")
    if x.shape[0] < 1:
        raise ValueError(f"x has T = 0 time steps: shape {tuple(x.shape)}")
    check_array(h0, "h0", shape=(x.shape[1], H))
    if f_h not in rnn.HIDDEN_ACTIVATIONS:
        raise ValueError(f"f_h must be one of {rnn.HIDDEN_ACTIVATIONS}, "
                         f"got {f_h!r}")


def step_forward(params, x_t, state: State, f_h: str = "tanh"):
    """One GRU step in the convention of ``params`` (module docstring).

    Args:
        x_t: X(t), (B, D); state: State(h(t-1)), h of shape (B, H).

    Returns:
        (State(h(t)), StepCache).
    """
    if f_h not in rnn.HIDDEN_ACTIVATIONS:
        raise ValueError(f"f_h must be one of {rnn.HIDDEN_ACTIVATIONS}, "
                         f"got {f_h!r}")
    f = get_activation(f_h)
    p, h_prev = params, state.h
    z = sigmoid(x_t @ p["W_z"].T + h_prev @ p["U_z"].T + p["b_z"])
    r = sigmoid(x_t @ p["W_r"].T + h_prev @ p["U_r"].T + p["b_r"])
    if convention(p) == "lecture":
        inner = r * h_prev                        # r(t) ∘ h(t-1)
        # h~(t) = f_h(W_h X(t) + U_h (r ∘ h(t-1)) + b_h)
        c = f.forward(x_t @ p["W_h"].T + inner @ p["U_h"].T + p["b_h"])
        h = (1.0 - z) * h_prev + z * c            # z weights h~(t)
    else:
        inner = h_prev @ p["U_h"].T + p["b_hn"]   # U_h h(t-1) + b_hn
        # n(t) = f_h(W_h X(t) + b_in + r ∘ (U_h h(t-1) + b_hn))
        c = f.forward(x_t @ p["W_h"].T + p["b_in"] + r * inner)
        h = (1.0 - z) * c + z * h_prev            # z weights h(t-1)
    return State(h), StepCache(x_t, h_prev, z, r, c, inner, f_h)


def step_backward(params, dh, cache: StepCache):
    """One step back from dh = ∂E/∂h(t), in the convention of params.

    Returns:
        (dx_t (B, D), dh_prev = ∂E/∂h(t-1) (B, H), grads with the keys
        of ``KEYS[convention]``).
    """
    xp = namespace(dh)
    p, x, h_prev = params, cache.x, cache.h_prev
    z, r, c, inner = cache.z, cache.r, cache.c, cache.inner
    f = get_activation(cache.f_h)
    g = {}
    if convention(p) == "lecture":
        da_c = f.backward(dh * z, c)              # through h~ = f_h(a_c)
        dz = dh * (c - h_prev)                    # ∂h/∂z = h~ - h(t-1)
        dh_prev = dh * (1.0 - z)
        d_inner = da_c @ p["U_h"]                 # ∂E/∂(r ∘ h(t-1))
        dr = d_inner * h_prev
        dh_prev = dh_prev + d_inner * r
        g["U_h"] = da_c.T @ inner                 # da_c (r ∘ h(t-1))^T
        g["b_h"] = xp.sum(da_c, axis=0)
    else:
        da_c = f.backward(dh * (1.0 - z), c)      # through n = f_h(a_c)
        dz = dh * (h_prev - c)                    # ∂h/∂z = h(t-1) - n
        dh_prev = dh * z
        dr = da_c * inner                         # a_c holds r ∘ inner
        d_inner = da_c * r                        # ∂E/∂(U_h h + b_hn)
        dh_prev = dh_prev + d_inner @ p["U_h"]
        g["U_h"] = d_inner.T @ h_prev
        g["b_in"] = xp.sum(da_c, axis=0)
        g["b_hn"] = xp.sum(d_inner, axis=0)
    g["W_h"] = da_c.T @ x                         # da_c X(t)^T
    da_z = dz * z * (1.0 - z)                     # σ' = z (1 - z)
    da_r = dr * r * (1.0 - r)
    for name, da in (("z", da_z), ("r", da_r)):
        g[f"W_{name}"] = da.T @ x
        g[f"U_{name}"] = da.T @ h_prev
        g[f"b_{name}"] = xp.sum(da, axis=0)
        dh_prev = dh_prev + da @ p[f"U_{name}"]
    dx = da_z @ p["W_z"] + da_r @ p["W_r"] + da_c @ p["W_h"]
    return dx, dh_prev, {k: g[k] for k in KEYS[convention(p)]}


def hidden_forward(params, x, h0, f_h: str = "tanh"):
    """The GRU recurrence over a sequence: h(1), ..., h(T).

    Args:
        x: inputs (T, B, D); h0: h(0), (B, H).

    Returns:
        (hs (T, B, H) the states h(1..T), Cache).
    """
    _check_hidden(params, x, h0, f_h)
    if f_h == "tanh":     # the fast path, equal to 1e-12 (companion.fused)
        hs, zrc, inner = fused.gru_forward(params, x, h0,
                                           convention(params) == "lecture")
        H = hs.shape[-1]
        return hs[1:, ...], Cache(x, hs, zrc[..., :H], zrc[..., H:2 * H],
                                  zrc[..., 2 * H:], inner, f_h)
    xp = namespace(x, h0)
    state, steps = State(h0), []
    for t in range(x.shape[0]):
        state, step = step_forward(params, x[t, ...], state, f_h)
        steps.append(step)
    hs = xp.stack([h0] + [s.h_prev for s in steps[1:]] + [state.h], axis=0)
    fields = [xp.stack([getattr(s, k) for s in steps], axis=0)
              for k in ("z", "r", "c", "inner")]
    return hs[1:, ...], Cache(x, hs, *fields, f_h)


def hidden_backward(params, dhs, cache: Cache, dh_T=None) -> Backward:
    """Back through the recurrence from dhs(t) = ∂E/∂h(t) given from
    outside (the output layer, or the layer above), (T, B, H).

    ``dh_T``: an extra gradient reaching h(T) (None: zero). Gradients are
    accumulated over time explicitly; nothing is modified in place.
    """
    xp = namespace(dhs)
    T = cache.x.shape[0]
    check_array(dhs, "dhs", shape=(T,) + tuple(cache.hs.shape[1:]))
    if cache.f_h == "tanh":
        conv = convention(params)
        grads, dx, dh0 = fused.gru_backward(params, dhs, cache, dh_T,
                                            conv == "lecture")
        return Backward({k: grads[k] for k in KEYS[conv]}, dx, dh0)
    keys = KEYS[convention(params)]
    grads = {k: xp.zeros_like(params[k]) for k in keys}
    dxs = [None] * T
    dh_next = xp.zeros_like(dhs[0, ...]) if dh_T is None else dh_T
    for t in reversed(range(T)):
        step = StepCache(cache.x[t, ...], cache.hs[t, ...], cache.z[t, ...],
                         cache.r[t, ...], cache.c[t, ...],
                         cache.inner[t, ...], cache.f_h)
        # part 1 (from outside) + part 2 (from step t + 1)
        dxs[t], dh_next, g = step_backward(params, dhs[t, ...] + dh_next,
                                           step)
        grads = {k: grads[k] + g[k] for k in keys}
    return Backward(grads, xp.stack(dxs, axis=0), dh_next)


def forward(params, x, h0, f_h: str = "tanh", f_s: str = "identity"):
    """Outputs o(t) = f_s(W_s h(t) + b_s) of a GRU layer.

    Returns:
        (o (T, B, K), State(h(T)), Cache).
    """
    # data with NaN/inf would spread silently (states that diverge in
    # training are the caller's to see: they are not checked)
    check_finite(x, "x")
    hs, cache = hidden_forward(params, x, h0, f_h)
    o, _ = rnn.output_forward(params, hs, f_s)
    return o, State(hs[-1, ...]), cache


def backward(params, dz_s, cache: Cache, dh_T=None) -> Backward:
    """BPTT through a GRU layer from dz_s(t) = ∂E/∂z_s(t), (T, B, K).

    Returns:
        Backward(grads with the keys of params, dx, dh(0)).
    """
    hs = cache.hs[1:, ...]
    want = tuple(hs.shape[:2]) + (params["W_s"].shape[0],)
    check_array(dz_s, "dz_s", shape=want)
    out_grads, dhs = rnn.output_backward(params, dz_s, hs)
    hidden = hidden_backward(params, dhs, cache, dh_T)
    grads = {**hidden.grads, **out_grads}
    return Backward({k: grads[k] for k in params}, hidden.dx, hidden.dh0)


# -- stacked (deep) layers ----------------------------------------------


def num_layers(params) -> int:
    """The number L of stacked layers held by ``params`` (keys W_z_l)."""
    return stacking.num_layers(params, "W_z")


def layer(params, index: int) -> dict[str, Any]:
    """The hidden parameters of layer ``index`` (1 = the lowest)."""
    name = "pytorch" if f"b_hn_{index}" in params else "lecture"
    return {k: params[f"{k}_{index}"] for k in KEYS[name]}


def init_stack(D: int, sizes, K: int, rng, convention: str = "lecture",
               xp=None, dtype=None) -> dict[str, Any]:
    """L stacked GRU layers of sizes H_1..H_L and one output layer.

    Keys ``<key>_l`` for the keys of the convention, l = 1..L, then W_s
    (K, H_L), b_s (K,).
    """
    def one(fan_in, H, top):
        return init_params(fan_in, H, K if top else None, rng, convention,
                           xp=xp, dtype=dtype)
    return stacking.init_stack(one, lambda p: KEYS[convention], D, sizes,
                               rnn.OUTPUT)


def stack_forward(params, x, h0s, f_h: str = "tanh",
                  f_s: str = "identity"):
    """A deep GRU: layer l reads h_{l-1}(t) (h_0(t) = X(t)); the output
    reads the top layer. ``h0s``: one h_l(0) (B, H_l) per layer.

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
    """Back through the stack: each layer's dx is the dhs of the one
    below. ``dh_Ts``: optional gradients reaching each h_l(T); ``dh0`` is
    the list of ∂E/∂h_l(0)."""
    return stacking.backward(sys.modules[__name__], params, dz_s, caches,
                             dh_Ts, "dh_Ts")
