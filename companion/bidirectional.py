"""A bidirectional recurrent layer over any cell (chapter 11).

Two layers of the same kind read the sequence X(1..T), one from left to
right and one from right to left (Schuster & Paliwal 1997); the state at
t is the concatenation of both, so it sees the whole input:

    h_f(t) = layer_f(X(t), h_f(t-1)),   t = 1..T,    h_f(0) given
    h_b(t) = layer_b(X(t), h_b(t+1)),   t = T..1,    h_b(T+1) given
    h(t)   = [h_f(t); h_b(t)]                        (2H)
    o(t)   = f_s(W_s h(t) + b_s)                      W_s (K, 2H)

The backward pass splits ∂E/∂h(t) into its two halves: the first goes
back through layer_f from T to 1, the second through layer_b from 1 to
T (its own time order, run on the reversed sequence), and the input
receives both, ∂E/∂X(t) = dX_f(t) + dX_b(t).

``layer_f`` and ``layer_b`` are any module of the model protocol of
``companion.bptt`` (``rnn``, ``lstm``, ``gru``), passed as ``model``;
their keys are prefixed ``fwd.`` and ``bwd.`` in one params dict (so the
optimizers apply unchanged). States are ``States(fwd, bwd)`` of the
model's own states. ``Layer(model)`` wraps the functions in the model
protocol itself, so that ``bptt.full_bptt`` or ``seq2seq`` can take a
bidirectional layer as their ``model``.

Shapes: x (T, B, D), hs (T, B, 2H), o (T, B, K). PyTorch's
``bidirectional=True`` computes the same (its ``_reverse`` parameters
are ``bwd.*``; tests/test_bidirectional_torch.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import init, rnn
from ._validate import check_array, check_finite
from .backend import namespace, resolve


class States(NamedTuple):
    """The states of the two directions (each the model's own state)."""

    fwd: Any      # h_f, after the left-to-right pass
    bwd: Any      # h_b, after the right-to-left pass


class Cache(NamedTuple):
    """The caches of the two directions (``bwd`` in reversed time) and
    the concatenated states h(1..T), (T, B, 2H)."""

    fwd: Any
    bwd: Any
    hs: Any


class Backward(NamedTuple):
    """Gradients (keys of the params), ∂E/∂X (T, B, D), ∂E/∂states0."""

    grads: dict[str, Any]
    dx: Any
    dh0: States


def init_params(D: int, H: int, K: int | None, rng, model=rnn, xp=None,
                **options) -> dict[str, Any]:
    """Two layers of ``model`` (D inputs, H units each; ``options`` go to
    ``model.init_params``) and an output layer W_s (K, 2H), b_s (K,)
    (K=None: none). Keys ``fwd.*``, ``bwd.*``, W_s, b_s."""
    fwd = model.init_params(D, H, None, rng, xp=xp, **options)
    bwd = model.init_params(D, H, None, rng, xp=xp, **options)
    params = {**{"fwd." + k: v for k, v in fwd.items()},
              **{"bwd." + k: v for k, v in bwd.items()}}
    if K is not None:
        be = resolve(xp)
        params["W_s"] = init.xavier_uniform((K, 2 * H), rng, xp=be)
        params["b_s"] = be.xp.zeros((K,), dtype=be.float_dtype,
                                    device=be.device)
    return params


def direction(params, name: str) -> dict[str, Any]:
    """The params of one direction: ``direction(params, "fwd")``."""
    if name not in ("fwd", "bwd"):
        raise ValueError(f"name must be 'fwd' or 'bwd', got {name!r}")
    n = len(name) + 1
    return {k[n:]: v for k, v in params.items() if k.startswith(name + ".")}


def zero_state(params, B: int, like, model=rnn) -> States:
    """Both directions' zero states for a batch of B."""
    return States(model.zero_state(direction(params, "fwd"), B, like),
                  model.zero_state(direction(params, "bwd"), B, like))


def _flip(xp, a):
    """a with its time axis (0) reversed."""
    return xp.flip(a, axis=0)


def hidden_forward(params, x, states0: States, model=rnn,
                   f_h: str = "tanh"):
    """Both passes and their concatenation h(t) = [h_f(t); h_b(t)].

    Args:
        x: (T, B, D); states0: States(h_f(0), h_b(T+1)).

    Returns:
        (hs (T, B, 2H), Cache).
    """
    check_array(x, "x", ndim=3)
    if not isinstance(states0, States):
        raise TypeError("states0 must be bidirectional.States(fwd, bwd), "
                        f"got {type(states0).__name__}")
    xp = namespace(x)
    hs_f, cache_f = model.hidden_forward(direction(params, "fwd"), x,
                                         states0.fwd, f_h)
    # the right-to-left layer is an ordinary layer on the reversed input
    hs_b, cache_b = model.hidden_forward(direction(params, "bwd"),
                                         _flip(xp, x), states0.bwd, f_h)
    hs = xp.concat([hs_f, _flip(xp, hs_b)], axis=2)
    return hs, Cache(cache_f, cache_b, hs)


def state_at(cache: Cache, t: int, model=rnn) -> States:
    """Each direction's state after t steps of its own pass (t = T: the
    final states, h_f(T) and h_b(1))."""
    return States(model.state_at(cache.fwd, t), model.state_at(cache.bwd, t))


def hidden_backward(params, dhs, cache: Cache, model=rnn,
                    dstates_T: States | None = None) -> Backward:
    """Back through both passes from dhs(t) = ∂E/∂h(t), (T, B, 2H).

    The first H columns go back through layer_f, the last H through
    layer_b in its own (reversed) time; ∂E/∂X(t) is the sum of both.
    ``dstates_T``: extra gradients reaching the final states (None: 0).
    """
    xp = namespace(dhs)
    H = cache.hs.shape[2] // 2
    check_array(dhs, "dhs", ndim=3)
    if dhs.shape[2] != 2 * H:
        raise ValueError(f"dhs must have 2H = {2 * H} features, got shape "
                         f"{tuple(dhs.shape)}")
    d_f, d_b = (None, None) if dstates_T is None else dstates_T
    back_f = model.hidden_backward(direction(params, "fwd"),
                                   dhs[..., :H], cache.fwd, d_f)
    back_b = model.hidden_backward(direction(params, "bwd"),
                                   _flip(xp, dhs[..., H:]), cache.bwd, d_b)
    grads = {**{"fwd." + k: v for k, v in back_f.grads.items()},
             **{"bwd." + k: v for k, v in back_b.grads.items()}}
    dx = back_f.dx + _flip(xp, back_b.dx)        # X(t) feeds both layers
    return Backward(grads, dx, States(back_f.dh0, back_b.dh0))


def forward(params, x, states0: States, model=rnn, f_h: str = "tanh",
            f_s: str = "identity"):
    """Both passes and o(t) = f_s(W_s [h_f(t); h_b(t)] + b_s).

    Returns:
        (o (T, B, K), final States, Cache).
    """
    check_finite(x, "x")
    hs, cache = hidden_forward(params, x, states0, model, f_h)
    o, _ = rnn.output_forward(params, hs, f_s)
    return o, state_at(cache, x.shape[0], model), cache


def backward(params, dz_s, cache: Cache, model=rnn,
             dstates_T: States | None = None) -> Backward:
    """From dz_s(t) = ∂E/∂z_s(t), (T, B, K): every gradient.

    Returns:
        Backward(grads (keys of params, in order), dx, States of dstate0).
    """
    check_array(dz_s, "dz_s", ndim=3)
    if "W_s" not in params:
        raise ValueError("params has no output layer W_s (K was None)")
    out_grads, dhs = rnn.output_backward(params, dz_s, cache.hs)
    back = hidden_backward(params, dhs, cache, model, dstates_T)
    grads = {**back.grads, **out_grads}
    return Backward({k: grads[k] for k in params}, back.dx, back.dh0)


class Layer:
    """A bidirectional ``model`` in the model protocol of
    ``companion.bptt`` (hidden_forward, hidden_backward, backward,
    state_at, zero_state, init_params); it holds no parameters."""

    def __init__(self, model=rnn):
        self.model = model

    def init_params(self, D, H, K, rng, xp=None, **options):
        """As ``init_params`` with this layer's model; H per direction."""
        return init_params(D, H, K, rng, self.model, xp, **options)

    def zero_state(self, params, B, like):
        """As ``zero_state``."""
        return zero_state(params, B, like, self.model)

    def state_at(self, cache, t):
        """As ``state_at``."""
        return state_at(cache, t, self.model)

    def hidden_forward(self, params, x, states0, f_h="tanh"):
        """As ``hidden_forward``."""
        return hidden_forward(params, x, states0, self.model, f_h)

    def hidden_backward(self, params, dhs, cache, dstates_T=None):
        """As ``hidden_backward``."""
        return hidden_backward(params, dhs, cache, self.model, dstates_T)

    def backward(self, params, dz_s, cache, dstates_T=None):
        """As ``backward``."""
        return backward(params, dz_s, cache, self.model, dstates_T)
