"""Exercises of chapter 11 (bidirectional layers and attention): specs.

The equations are those of ``solutions/11-attention.md``:

    11.1  dot-product attention (Luong et al. 2015): e_j = s^T h_j,
          α = softmax_j(e), c = Σ_j α_j h_j; returns (c (B, H), α (T, B))
    11.2  its backward pass from dc: (∂E/∂s (B, H), ∂E/∂h_j (T, B, H))
    11.3  the backward pass of a bidirectional layer's concatenation:
          (dh_f, dh_b), dh_b in the right-to-left layer's own step order

The references are written here (the package's attention is additive);
11.3's is ``companion.bidirectional``'s split. Cases include T = 1, B = 1,
H = 1 and large scores (the softmax must be shifted).
"""

from __future__ import annotations

import numpy as np

from .. import bidirectional
from ..backend import namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _alpha(xp, s, hs):
    e = xp.sum(hs * s[None, ...], axis=2)
    e = e - xp.max(e, axis=0, keepdims=True)
    return xp.exp(e) / xp.sum(xp.exp(e), axis=0, keepdims=True)


def dot_attention(s, hs):
    """Reference of 11.1: (c, α) of dot-product attention."""
    xp = namespace(s, hs)
    alpha = _alpha(xp, s, hs)
    return xp.sum(alpha[..., None] * hs, axis=0), alpha


def dot_attention_backward(dc, s, hs):
    """Reference of 11.2: (ds, dhs) of dot-product attention."""
    xp = namespace(dc, s, hs)
    alpha = _alpha(xp, s, hs)
    dalpha = xp.sum(hs * dc[None, ...], axis=2)
    de = alpha * (dalpha - xp.sum(alpha * dalpha, axis=0, keepdims=True))
    ds = xp.sum(de[..., None] * hs, axis=0)
    dhs = alpha[..., None] * dc[None, ...] + de[..., None] * s[None, ...]
    return ds, dhs


def concat_backward(dhs):
    """Reference of 11.3: the two halves, the second in reversed time."""
    xp = namespace(dhs)
    H = dhs.shape[2] // 2
    return dhs[..., :H], xp.flip(dhs[..., H:], axis=0)


def _att_case(label, seed, T, B, H, scale=1.0, grad=False):
    r = _rng(seed)
    inputs = {"s": r.normal(0.0, scale, (B, H)),
              "hs": r.normal(0.0, 1.0, (T, B, H))}
    if grad:
        inputs = {"dc": r.normal(size=(B, H)), **inputs}
    return Case(label, inputs)


def _att_cases(grad):
    def cases():
        return [
            _att_case("T = 4, B = 2, H = 3", 110, 4, 2, 3, grad=grad),
            _att_case("T = 1 (all weight on one state)", 111, 1, 3, 2,
                      grad=grad),
            _att_case("B = 1, H = 1, T = 5", 112, 5, 1, 1, grad=grad),
            _att_case("large scores (T = 6, B = 2, H = 4)", 113, 6, 2, 4,
                      scale=200.0, grad=grad),
            _att_case("T = 9, B = 3, H = 5", 114, 9, 3, 5, scale=0.5,
                      grad=grad),
        ]
    return cases


def _concat_cases():
    def case(label, seed, T, B, H):
        return Case(label, {"dhs": _rng(seed).normal(size=(T, B, 2 * H))})
    return [case("T = 5, B = 2, H = 3", 115, 5, 2, 3),
            case("T = 1", 116, 1, 2, 2),
            case("B = 1, H = 1", 117, 4, 1, 1),
            case("T = 6, B = 3, H = 4", 118, 6, 3, 4),
            case("T = 2, B = 1, H = 5", 119, 2, 1, 5)]


register(Exercise("11.1", "dot-product attention, forward", dot_attention,
                  _att_cases(False), outputs=("c", "alpha")))
register(Exercise("11.2", "dot-product attention, backward",
                  dot_attention_backward, _att_cases(True),
                  outputs=("ds", "dhs")))
register(Exercise("11.3", "the backward pass of the concatenation",
                  concat_backward, _concat_cases,
                  outputs=("dh_f", "dh_b")))


# -- 11.4 a bidirectional Elman layer, forward ---------------------------


def bidirectional_forward(params, x, h0_f, h0_b):
    """Reference of 11.4: ``bidirectional.hidden_forward`` on rnn."""
    hs, _ = bidirectional.hidden_forward(
        params, x, bidirectional.States(h0_f, h0_b))
    return hs


def _bidi_cases():
    def case(label, seed, T, B, D, H):
        r = _rng(seed)
        p = {f"{d}.{k}": r.normal(0.0, 0.8, shape)
             for d in ("fwd", "bwd")
             for k, shape in (("W_e", (H, D)), ("W_h", (H, H)),
                              ("b_e", (H,)))}
        return Case(label, {"params": p,
                            "x": r.normal(0.0, 1.0, (T, B, D)),
                            "h0_f": r.uniform(-0.9, 0.9, (B, H)),
                            "h0_b": r.uniform(-0.9, 0.9, (B, H))})
    return [case("T = 5, B = 2, D = 3, H = 4", 120, 5, 2, 3, 4),
            case("T = 1", 121, 1, 3, 2, 2),
            case("B = 1, D = 1, H = 1", 122, 6, 1, 1, 1),
            case("square, D = H = 3", 123, 4, 2, 3, 3),
            case("T = 9, B = 3, D = 2, H = 5", 124, 9, 3, 2, 5)]


register(Exercise("11.4", "a bidirectional Elman layer, forward",
                  bidirectional_forward, _bidi_cases))
