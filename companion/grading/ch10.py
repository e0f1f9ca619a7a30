"""Exercises of chapter 10 (sentiment): specs.

The equations are those of ``solutions/10-sentiment.md``:

    10.1  the embedding's backward pass: dE[v] = Σ_{t,b: w(t,b)=v} dX(t,b)
    10.2  masked mean pooling backward: dh(t, b) = m(t, b) ds_b / L_b
    10.3  the state at each sequence's own last step: h(L_b, b)

The references are ``embedding.backward`` and ``classify.pool_weights``.
Cases include repeated and unused words, T = B = 1, one-word texts and a
batch whose longest text is not the first.
"""

from __future__ import annotations

import numpy as np

from .. import classify, embedding
from ..backend import namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _mask(lengths, T=None):
    T = max(lengths) if T is None else T
    return (np.arange(T)[:, None] < np.array(lengths)[None, :]) * 1.0


# -- 10.1 the embedding's backward pass -----------------------------------


def _emb_case(label, seed, T, B, D, V, high=None):
    r = _rng(seed)
    return Case(label, {"ids": r.integers(0, high or V, (T, B)),
                        "dx": r.normal(size=(T, B, D)), "V": V})


def _emb_cases():
    return [
        Case("one word twice, one unused (T = 2, B = 1, V = 3)",
             {"ids": np.array([[2], [2]]),
              "dx": np.array([[[1.0, -1.0]], [[0.5, 2.0]]]), "V": 3}),
        _emb_case("T = B = 1, D = 1, V = 1", 100, 1, 1, 1, 1),
        _emb_case("T = 5, B = 3, D = 4, V = 7", 101, 5, 3, 4, 7),
        _emb_case("words 0..5 only, V = 12 (unused rows)", 102, 6, 4, 3, 12,
                  high=6),
        _emb_case("T = 20, B = 8, D = 5, V = 4 (many repeats)", 103, 20, 8,
                  5, 4),
    ]


register(Exercise("10.1", "the backward pass of an embedding",
                  embedding.backward, _emb_cases, rtol=1e-9, atol=1e-12))


# -- 10.2 masked mean pooling, backward ----------------------------------


def mean_pool_backward(mask, ds):
    """Reference of 10.2: a(t, b) ds_b with a = m / L."""
    a = classify.pool_weights(mask, "mean")
    return a[..., None] * ds[None, ...]


def _pool_case(label, seed, lengths, H, T=None):
    return Case(label, {"mask": _mask(lengths, T),
                        "ds": _rng(seed).normal(size=(len(lengths), H))})


def _mean_cases():
    return [
        _pool_case("lengths 3, 1, 2 (H = 2)", 104, (3, 1, 2), 2),
        _pool_case("T = B = 1, H = 1", 105, (1,), 1),
        _pool_case("lengths 2, 5, 5, 1 (H = 3)", 106, (2, 5, 5, 1), 3),
        _pool_case("equal lengths 4, 4 (H = 4)", 107, (4, 4), 4),
        _pool_case("padded past the longest: T = 6, lengths 2, 3", 108,
                   (2, 3), 2, T=6),
    ]


register(Exercise("10.2", "the backward pass of masked mean pooling",
                  mean_pool_backward, _mean_cases))


# -- 10.3 the state at each sequence's own last step ----------------------


def last_states(hs, mask):
    """Reference of 10.3: Σ_t [t = L_b] h(t, b)."""
    xp = namespace(hs)
    a = classify.pool_weights(mask, "last")
    return xp.sum(a[..., None] * hs, axis=0)


def _last_case(label, seed, lengths, H, T=None):
    mask = _mask(lengths, T)
    return Case(label, {"hs": _rng(seed).normal(size=mask.shape + (H,)),
                        "mask": mask})


def _last_cases():
    return [
        _last_case("lengths 2, 4, 1 (H = 3)", 109, (2, 4, 1), 3),
        _last_case("T = B = 1, H = 1", 110, (1,), 1),
        _last_case("lengths 5, 5 (no padding)", 111, (5, 5), 2),
        _last_case("lengths 1, 3, 3, 2 (H = 4)", 112, (1, 3, 3, 2), 4),
        _last_case("padded past the longest: T = 5, lengths 3, 1", 113,
                   (3, 1), 2, T=5),
    ]


register(Exercise("10.3", "the state at each text's own last word",
                  last_states, _last_cases))
