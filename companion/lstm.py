"""The LSTM layer: forget, input and output gates around a cell (ch. 5).

For t = 1, ..., T, with σ the logistic sigmoid and ∘ the element-wise
product (Hochreiter & Schmidhuber 1997, forget gate of Gers et al. 2000):

    f(t) = σ(W_f X(t) + U_f h(t-1) + b_f)              forget gate
    i(t) = σ(W_i X(t) + U_i h(t-1) + b_i)              input gate
    o(t) = σ(W_o X(t) + U_o h(t-1) + b_o)              output gate
    c̃(t) = f_h(W_c X(t) + U_c h(t-1) + b_c)            candidate
    c(t) = f(t) ∘ c(t-1) + i(t) ∘ c̃(t)                 cell state
    h(t) = o(t) ∘ f_h(c(t))                             hidden state

f_h is tanh unless asked (also "relu", "sigmoid"). The output layer is
rnn's: z_s(t) = W_s h(t) + b_s. Variants, told apart by the keys of params:

* peepholes (Gers & Schmidhuber 2000; Gers et al. 2002): diagonal weights
  p_f, p_i, p_o (H,) add p_f ∘ c(t-1) to f's pre-activation, p_i ∘ c(t-1)
  to i's and p_o ∘ c(t) to o's;
* coupled input and forget gates: i(t) = 1 - f(t); no W_i, U_i, b_i, p_i.

Backward, t = T..1, from dh (output + step t+1) and dc (step t+1):

    dc  ← dc + dh ∘ o ∘ f_h'(c(t))  (+ p_o ∘ dz_o)   dz_o = dh ∘ f_h(c(t))
          ∘ o (1 - o)
    dz_f = dc ∘ c(t-1) ∘ f (1 - f)      dz_i = dc ∘ c̃ ∘ i (1 - i)
    dz_c = dc ∘ i ∘ f_h'(z_c)           (coupled: dz_f = dc ∘ (c(t-1) - c̃)
                                         ∘ f (1 - f), no dz_i)
    dc(t-1) = dc ∘ f(t)  (+ p_f ∘ dz_f + p_i ∘ dz_i)
    dh(t-1) = Σ_g U_g^T dz_g    dW_g += dz_g X(t)^T   dU_g += dz_g h(t-1)^T

The cell path dc(t-1) = f(t) ∘ dc(t) has no weight matrix and no
squashing derivative: with f ≈ 1 it is the constant error carousel.

Shapes: x (T, B, D), h and c (B, H); W_g (H, D), U_g (H, H), b_g (H,).
A batched line is the transpose of its equation. For speed the gates'
weights are stacked in the order of ``gates(params)`` (f, i, o, c), so
that each step needs one product with h(t-1).
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from . import fused, init, rnn, stacking
from ._validate import check_array, check_finite, check_floating
from .activations import get_activation, sigmoid, sigmoid_backward
from .backend import device, namespace, resolve

OUTPUT = rnn.OUTPUT
HIDDEN_ACTIVATIONS = rnn.HIDDEN_ACTIVATIONS
Backward = rnn.Backward
# the output layer is rnn's (companion.stacking reads it from here)
output_forward, output_backward = rnn.output_forward, rnn.output_backward


class State(NamedTuple):
    """The LSTM state: h(t) and the cell c(t), each (B, H)."""

    h: Any
    c: Any


class StepCache(NamedTuple):
    """What one step keeps for its backward pass (each (B, ·))."""

    x: Any        # X(t), (B, D)
    h_prev: Any   # h(t-1)
    c_prev: Any   # c(t-1)
    f: Any        # forget gate f(t)
    i: Any        # input gate i(t) (1 - f(t) when coupled)
    o: Any        # output gate o(t)
    g: Any        # candidate c̃(t)
    c: Any        # c(t)
    tc: Any       # f_h(c(t))
    f_h: str


class Cache(NamedTuple):
    """What a sequence keeps: x (T, B, D), hs and cs (T + 1, B, H) from
    h(0), c(0); the gates f, i, o, candidate g and f_h(c), (T, B, H)."""

    x: Any
    hs: Any
    cs: Any
    f: Any
    i: Any
    o: Any
    g: Any
    tc: Any
    f_h: str


def gates(params) -> tuple[str, ...]:
    """The gates with weights: ("f", "i", "o", "c"), or without "i" when
    the input gate is coupled (params without W_i)."""
    return ("f", "i", "o", "c") if "W_i" in params else ("f", "o", "c")


def peepholes(params) -> tuple[str, ...]:
    """The peephole keys present: () or ("p_f", "p_i", "p_o") / coupled
    ("p_f", "p_o")."""
    return tuple(k for k in ("p_f", "p_i", "p_o") if k in params)


def hidden_keys(params) -> list[str]:
    """The keys of the recurrent layer, in the order of init_params."""
    keys = [f"{m}_{g}" for g in gates(params) for m in ("W", "U", "b")]
    return keys + list(peepholes(params))


def init_params(D: int, H: int, K: int | None, rng, forget_bias=1.0,
                peephole=False, coupled=False, xp=None, dtype=None):
    """Parameters of an LSTM layer and an output layer (K=None: none).

    W_g: Xavier uniform (H, D); U_g: orthogonal (H, H); b_g zero except
    b_f = forget_bias (1 lets the cell remember at the start of
    training); peepholes p_f, p_i, p_o (H,) zero; W_s Xavier, b_s zero.
    """
    be = resolve(xp)
    dt = dtype or be.float_dtype
    params = {}
    for g in ("f", "o", "c") if coupled else ("f", "i", "o", "c"):
        params[f"W_{g}"] = init.xavier_uniform((H, D), rng, xp=be, dtype=dt)
        params[f"U_{g}"] = init.orthogonal((H, H), rng, xp=be, dtype=dt)
        bias = forget_bias if g == "f" else 0.0
        params[f"b_{g}"] = be.xp.full((H,), bias, dtype=dt, device=be.device)
    for g in ("f", "o") if coupled else ("f", "i", "o"):
        if peephole:
            params[f"p_{g}"] = be.xp.zeros((H,), dtype=dt, device=be.device)
    if K is not None:
        params["W_s"] = init.xavier_uniform((K, H), rng, xp=be, dtype=dt)
        params["b_s"] = be.xp.zeros((K,), dtype=dt, device=be.device)
    return params


def zero_state(params, B: int, like) -> State:
    """h(0) = c(0) = 0, (B, H), on the device and in the dtype of like."""
    xp = namespace(like)
    shape = (B, params["U_f"].shape[0])
    return State(*(xp.zeros(shape, dtype=like.dtype, device=device(like))
                   for _ in range(2)))


def state_at(cache: Cache, t: int) -> State:
    """The state (h(t), c(t)) after t steps (t = 0: the initial one)."""
    return State(cache.hs[t, ...], cache.cs[t, ...])


def _check(params, x, state, f_h):
    """Validate params, x (T, B, D) or (B, D), the state and f_h."""
    if f_h not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"f_h must be one of {HIDDEN_ACTIVATIONS}, got "
                         f"{f_h!r}")
    for key in hidden_keys(params):
        if key not in params:
            raise ValueError(f"params has no {key!r}; keys: {sorted(params)}")
    full = ("p_f", "p_i", "p_o")[:: 1 if "W_i" in params else 2]
    if peepholes(params) not in ((), full):
        raise ValueError(f"peepholes must be all of {full} or none, got "
                         f"{peepholes(params)}")
    H, D = params["W_f"].shape
    for key in hidden_keys(params):
        want = {"W": (H, D), "U": (H, H)}.get(key[0], (H,))
        check_array(params[key], key, shape=want)
    check_floating(x, "x")
    if x.shape[-1] != D:
        raise ValueError(f"x has D = {x.shape[-1]} features per step, but "
                         f"W_f of shape {(H, D)} expects D = {D}")
    if x.ndim == 3 and x.shape[0] < 1:
        raise ValueError(f"x has T = 0 time steps: shape {tuple(x.shape)}")
    if not (isinstance(state, tuple) and len(state) == 2):
        raise TypeError("the state must be State(h, c), got "
                        f"{type(state).__name__}")
    check_array(state[0], "h0", shape=(x.shape[-2], H))
    check_array(state[1], "c0", shape=(x.shape[-2], H))


def _stacked(params, kind: str):
    """[W_f; W_i; W_o; W_c] (kind "W"), U or b, gate rows stacked."""
    return namespace(params["W_f"]).concat(
        [params[f"{kind}_{g}"] for g in gates(params)], axis=0)


def _cell(params, z, x_t, state, f_h):
    """One step from the pre-activations z = [z_f, z_i, z_o, z_c] without
    the peephole terms, (B, nH). Returns (State, StepCache)."""
    f_act, H = get_activation(f_h), state.h.shape[1]
    h_prev, c_prev = state
    n = len(gates(params)) - 1           # the gates through σ: f, (i), o
    z_g = z[:, :n * H]
    g = f_act.forward(z[:, n * H:])      # c̃(t) = f_h(W_c X + U_c h + b_c)
    if "p_f" not in params:
        s = sigmoid(z_g)                 # f, i, o = σ(W_g X + U_g h + b_g)
        f, o = s[:, :H], s[:, (n - 1) * H:]
        i = s[:, H:2 * H] if n == 3 else 1.0 - f    # coupled: i = 1 - f
        c = f * c_prev + i * g           # c(t) = f ∘ c(t-1) + i ∘ c̃
    else:  # peepholes: f and i look at c(t-1), o at c(t)
        f = sigmoid(z_g[:, :H] + params["p_f"] * c_prev)
        i = (sigmoid(z_g[:, H:2 * H] + params["p_i"] * c_prev) if n == 3
             else 1.0 - f)
        c = f * c_prev + i * g
        o = sigmoid(z_g[:, (n - 1) * H:] + params["p_o"] * c)
    tc = f_act.forward(c)
    h = o * tc                           # h(t) = o ∘ f_h(c(t))
    return State(h, c), StepCache(x_t, h_prev, c_prev, f, i, o, g, c, tc,
                                  f_h)


def step_forward(params, x_t, state: State, f_h: str = "tanh"):
    """One LSTM step (module docstring): gates, c(t), h(t).

    Args:
        x_t: X(t), (B, D); state: State(h(t-1), c(t-1)), each (B, H).

    Returns:
        (State(h(t), c(t)), StepCache).
    """
    _check(params, x_t, state, f_h)
    # [z_f; z_i; z_o; z_c] = W X(t) + U h(t-1) + b, all gates at once
    z = (x_t @ _stacked(params, "W").T + state.h @ _stacked(params, "U").T
         + _stacked(params, "b"))
    return _cell(params, z, x_t, state, f_h)


def _cell_backward(params, dh, dc, s: StepCache):
    """dz = [dz_f, dz_i, dz_o, dz_c] (B, nH), dc(t-1) and the peephole
    grads of one step, from dh = ∂E/∂h(t) and dc = ∂E/∂c(t) (step t+1)."""
    xp, f_act = namespace(dh), get_activation(s.f_h)
    dz_o = sigmoid_backward(dh * s.tc, s.o)         # h = o ∘ f_h(c)
    dc = dc + f_act.backward(dh * s.o, s.tc)        # through f_h(c(t))
    grads = {}
    if "p_o" in params:
        dc = dc + dz_o * params["p_o"]
        grads["p_o"] = xp.sum(dz_o * s.c, axis=0)
    dz_c = f_act.backward(dc * s.i, s.g)            # c = f c(t-1) + i c̃
    df = dc * s.c_prev
    dz = {"o": dz_o, "c": dz_c}
    if "W_i" in params:
        dz["i"] = sigmoid_backward(dc * s.g, s.i)
    else:  # coupled: i = 1 - f, so ∂c/∂f = c(t-1) - c̃
        df = df - dc * s.g
    dz["f"] = sigmoid_backward(df, s.f)
    dc_prev = dc * s.f                              # the carousel
    if "p_f" in params:
        dc_prev = dc_prev + dz["f"] * params["p_f"]
        grads["p_f"] = xp.sum(dz["f"] * s.c_prev, axis=0)
        if "p_i" in params:
            dc_prev = dc_prev + dz["i"] * params["p_i"]
            grads["p_i"] = xp.sum(dz["i"] * s.c_prev, axis=0)
    dz = xp.concat([dz[g] for g in gates(params)], axis=1)
    return dz, dc_prev, grads


def _split(params, dW, dU, db):
    """Per-gate grads from the stacked ones (rows in gates(params))."""
    H, out = params["U_f"].shape[0], {}
    for k, g in enumerate(gates(params)):
        rows = slice(k * H, (k + 1) * H)
        out.update({f"W_{g}": dW[rows, :], f"U_{g}": dU[rows, :],
                    f"b_{g}": db[rows]})
    return out


def step_backward(params, dstate: State, cache: StepCache):
    """One step back, from dstate = State(∂E/∂h(t), ∂E/∂c(t)).

    Returns:
        (dx_t (B, D), State(dh(t-1), dc(t-1)), grads of the layer's keys).
    """
    xp = namespace(dstate.h)
    dz, dc_prev, peep = _cell_backward(params, dstate.h, dstate.c, cache)
    grads = _split(params, dz.T @ cache.x, dz.T @ cache.h_prev,
                   xp.sum(dz, axis=0))              # dz_g X^T, dz_g h^T
    grads.update(peep)
    dh_prev = dz @ _stacked(params, "U")            # Σ_g U_g^T dz_g
    return (dz @ _stacked(params, "W"), State(dh_prev, dc_prev),
            {k: grads[k] for k in hidden_keys(params)})


def _fast(params, f_h: str) -> bool:
    """Whether ``companion.fused`` computes this layer's sequence passes
    (f_h tanh, no peepholes); it agrees with the loop below to 1e-12."""
    return f_h == "tanh" and not peepholes(params)


def hidden_forward(params, x, state0: State, f_h: str = "tanh"):
    """The LSTM over a sequence: h(1..T) and the Cache.

    Args:
        x: (T, B, D); state0: State(h(0), c(0)), each (B, H).

    Returns:
        (hs (T, B, H), Cache).
    """
    check_array(x, "x", ndim=3)
    _check(params, x, state0, f_h)
    if _fast(params, f_h):
        names = gates(params)
        hs, cs, acts, tc = fused.lstm_forward(params, names, x, *state0)
        H, n = hs.shape[-1], len(names)
        k = (n - 1) * H                      # acts: [f, (i), o, c̃]
        f = acts[..., :H]
        i = acts[..., H:2 * H] if n == 4 else 1.0 - f
        cache = Cache(x, hs, cs, f, i, acts[..., k - H:k], acts[..., k:],
                      tc, f_h)
        return hs[1:, ...], cache
    xp = namespace(x)
    state = State(*state0)
    U = _stacked(params, "U").T
    # W X(t) + b for every t in one product: (T, B, nH)
    zx = x @ _stacked(params, "W").T + _stacked(params, "b")
    steps, hs = [], [state.h]
    for t in range(x.shape[0]):
        state, s = _cell(params, zx[t, ...] + state.h @ U, x[t, ...],
                         state, f_h)
        steps.append(s)
        hs.append(state.h)

    def stack(name):
        return xp.stack([getattr(s, name) for s in steps], axis=0)

    cache = Cache(x, xp.stack(hs, axis=0),
                  xp.stack([state0[1]] + [s.c for s in steps], axis=0),
                  stack("f"), stack("i"), stack("o"), stack("g"),
                  stack("tc"), f_h)
    return cache.hs[1:, ...], cache


def step_cache(cache: Cache, t: int) -> StepCache:
    """The StepCache of step t + 1 (0-based t) of a sequence's Cache."""
    return StepCache(cache.x[t, ...], cache.hs[t, ...], cache.cs[t, ...],
                     cache.f[t, ...], cache.i[t, ...], cache.o[t, ...],
                     cache.g[t, ...], cache.cs[t + 1, ...],
                     cache.tc[t, ...], cache.f_h)


def hidden_backward(params, dhs, cache: Cache, dstate_T=None) -> Backward:
    """Back through the LSTM, from dhs(t) = ∂E/∂h(t) from outside (the
    output layer or the layer above), (T, B, H); ``dstate_T``: an extra
    State(dh, dc) reaching h(T), c(T) (None: zero).

    Returns:
        Backward(grads of the layer's keys, dx (T, B, D),
        State(dh(0), dc(0))).
    """
    xp = namespace(dhs)
    T = cache.x.shape[0]
    check_array(dhs, "dhs", shape=(T,) + tuple(cache.hs.shape[1:]))
    if _fast(params, cache.f_h):
        grads, dx, dh0, dc0 = fused.lstm_backward(params, gates(params), dhs,
                                                  cache, dstate_T)
        return Backward({k: grads[k] for k in hidden_keys(params)}, dx,
                        State(dh0, dc0))
    U = _stacked(params, "U")
    dh_next, dc_next = ((xp.zeros_like(dhs[0, ...]),) * 2
                        if dstate_T is None else dstate_T)
    dzs, peep = [None] * T, {k: 0.0 for k in peepholes(params)}
    for t in reversed(range(T)):
        dh = dhs[t, ...] + dh_next                  # output + step t+1
        dzs[t], dc_next, g = _cell_backward(params, dh, dc_next,
                                            step_cache(cache, t))
        peep = {k: peep[k] + g[k] for k in peep}
        dh_next = dzs[t] @ U                        # Σ_g U_g^T dz_g
    dz = xp.stack(dzs, axis=0)                      # (T, B, nH)
    n, D, H = dz.shape[2], cache.x.shape[2], U.shape[1]
    flat = xp.reshape(dz, (-1, n))
    # Σ_t dz(t) X(t)^T and Σ_t dz(t) h(t-1)^T, each in one product
    grads = _split(params, flat.T @ xp.reshape(cache.x, (-1, D)),
                   flat.T @ xp.reshape(cache.hs[:-1, ...], (-1, H)),
                   xp.sum(flat, axis=0))
    grads.update(peep)
    return Backward({k: grads[k] for k in hidden_keys(params)},
                    dz @ _stacked(params, "W"), State(dh_next, dc_next))


def forward(params, x, state0: State, f_h: str = "tanh",
            f_s: str = "identity"):
    """The LSTM and the output layer o(t) = f_s(W_s h(t) + b_s).

    Returns:
        (o (T, B, K), State(h(T), c(T)), Cache).
    """
    # data with NaN/inf would spread silently (states that diverge in
    # training are the caller's to see: they are not checked)
    check_finite(x, "x")
    hs, cache = hidden_forward(params, x, state0, f_h)
    o, _ = rnn.output_forward(params, hs, f_s)
    return o, state_at(cache, x.shape[0]), cache


def backward(params, dz_s, cache: Cache, dstate_T=None) -> Backward:
    """From dz_s(t) = ∂E/∂z_s(t), (T, B, K): every gradient.

    Returns:
        Backward(grads (keys of params, in order), dx, State(dh0, dc0)).
    """
    hs = cache.hs[1:, ...]
    want = tuple(hs.shape[:2]) + (params["W_s"].shape[0],)
    check_array(dz_s, "dz_s", shape=want)
    out_grads, dhs = rnn.output_backward(params, dz_s, hs)
    back = hidden_backward(params, dhs, cache, dstate_T)
    grads = {**back.grads, **out_grads}
    return Backward({k: grads[k] for k in params}, back.dx, back.dh0)


# -- stacked (deep) layers ----------------------------------------------


def num_layers(params) -> int:
    """The number L of stacked layers in ``params`` (keys W_f_l)."""
    return stacking.num_layers(params, "W_f")


def layer(params, index: int) -> dict[str, Any]:
    """The parameters of layer ``index`` (1 = lowest), suffix removed."""
    end = f"_{index}"
    return {k[:-len(end)]: v for k, v in params.items() if k.endswith(end)}


def init_stack(D: int, sizes, K: int, rng, forget_bias=1.0, peephole=False,
               coupled=False, xp=None, dtype=None) -> dict[str, Any]:
    """L stacked LSTM layers of sizes H_1..H_L (keys suffixed _l) and the
    output layer W_s (K, H_L), b_s (K,)."""
    def one(fan_in, H, top):
        return init_params(fan_in, H, K if top else None, rng, forget_bias,
                           peephole, coupled, xp, dtype)
    return stacking.init_stack(one, hidden_keys, D, sizes, OUTPUT)


def stack_forward(params, x, states0, f_h: str = "tanh",
                  f_s: str = "identity"):
    """A deep LSTM: layer l reads h_{l-1}(t) (h_0(t) = X(t)); the output
    reads the top layer. ``states0``: one State(h_l(0), c_l(0)) per layer.

    Returns:
        (o (T, B, K), [State(h_l(T), c_l(T))], [Cache per layer]).
    """
    # data with NaN/inf would spread silently (states that diverge in
    # training are the caller's to see: they are not checked)
    check_finite(x, "x")
    return stacking.forward(sys.modules[__name__], params, x, states0, f_h,
                            f_s, "states0")


def stack_backward(params, dz_s, caches, dstate_Ts=None) -> Backward:
    """Back through the stack: each layer's dx is the dhs of the layer
    below. Returns Backward(grads, dx, [State(dh_l(0), dc_l(0))])."""
    return stacking.backward(sys.modules[__name__], params, dz_s, caches,
                             dstate_Ts, "dstate_Ts")
