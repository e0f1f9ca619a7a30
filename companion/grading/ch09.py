"""Exercises of chapter 9 (image captioning): specs.

The equations are those of ``solutions/09-captioning.md``:

    9.1  the modified n-gram precision of one candidate (Papineni et al.
         2002): (Σ_g min(count_C(g), max_R count_R(g)), Σ_g count_C(g))
    9.2  BLEU-N from corpus counts: BP · exp((1/N) Σ_n ln(m_n / t_n)),
         BP = 1 if c > r else exp(1 - r / c); 0 when some m_n = 0
    9.3  the backward of h(0) = tanh(W_v v + b_v): from dh0 (B, H),
         da = dh0 ∘ (1 - h0²), dW_v = da^T v (H, F), db_v = Σ_b da (H,)

The references are ``metrics.modified_precision``, the formula of
``metrics.corpus_bleu`` on counts, and the image path of
``captioning.loss_and_grads``. Cases include the paper's examples, a
candidate shorter than n, c = r, and B = H = F = 1.
"""

from __future__ import annotations

import math

import numpy as np

from .. import metrics
from ..backend import namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- 9.1 modified n-gram precision ------------------------------------------

_PAPER_REFS = [
    ("It is a guide to action that ensures that the military will forever "
     "heed Party commands").split(),
    ("It is the guiding principle which guarantees the military forces "
     "always being under the command of the Party").split(),
    ("It is the practical guide for the army always to heed the "
     "directions of the party").split()]
_PAPER_CAND = ("It is a guide to action which ensures that the military "
               "always obeys the commands of the party").split()


def _precision_cases():
    r = _rng(90)
    words = ["zero", "one", "two", "three"]
    rand_refs = [list(r.choice(words, 6)) for _ in range(2)]
    return [
        Case("the paper's 'the' x 7, n = 1 (2 of 7)",
             {"references": ["the cat is on the mat".split(),
                             "there is a cat on the mat".split()],
              "candidate": ["the"] * 7, "n": 1}),
        Case("the paper's candidate 1, n = 1",
             {"references": _PAPER_REFS, "candidate": _PAPER_CAND, "n": 1}),
        Case("the paper's candidate 1, n = 2",
             {"references": _PAPER_REFS, "candidate": _PAPER_CAND, "n": 2}),
        Case("a repeated bigram clipped by the larger reference count",
             {"references": [["one", "two", "one", "two"],
                             ["one", "two", "three"]],
              "candidate": ["one", "two", "one", "two", "one", "two"],
              "n": 2}),
        Case("a candidate shorter than n (no n-gram: (0, 0))",
             {"references": [["one", "two", "three"]],
              "candidate": ["one", "two"], "n": 3}),
        Case("random captions over four words, n = 3",
             {"references": rand_refs,
              "candidate": list(r.choice(words, 8)), "n": 3}),
    ]


def modified_precision(references, candidate, n):
    """Reference of 9.1: (clipped matches, n-grams) as Python ints."""
    return metrics.modified_precision(references, candidate, n)


register(Exercise("9.1", "the modified n-gram precision",
                  modified_precision, _precision_cases,
                  outputs=("matched", "total"), exact=True))


# -- 9.2 BLEU from the corpus counts -----------------------------------------


def bleu_from_counts(matched, total, c, r):
    """Reference of 9.2: BP · geometric mean of the precisions."""
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    return metrics.brevity_penalty(c, r) * math.exp(log_p / len(matched))


def _bleu_cases():
    return [
        Case("all precisions 1, c = 4 < r = 5: BP = exp(-1/4)",
             {"matched": [4, 3, 2, 1], "total": [4, 3, 2, 1], "c": 4,
              "r": 5}),
        Case("c = 5 > r = 4: BP = 1, (1/5) ** (1/4)",
             {"matched": [4, 3, 2, 1], "total": [5, 4, 3, 2], "c": 5,
              "r": 4}),
        Case("c = r = 9: BP = 1",
             {"matched": [8, 6, 4, 2], "total": [9, 7, 5, 3], "c": 9,
              "r": 9}),
        Case("no matching 4-gram: 0",
             {"matched": [10, 6, 2, 0], "total": [12, 9, 6, 3], "c": 12,
              "r": 11}),
        Case("BLEU-2, a short corpus (c = 3, r = 6)",
             {"matched": [3, 1], "total": [3, 2], "c": 3, "r": 6}),
        Case("BLEU-4 of a larger corpus (c = 1300, r = 1320)",
             {"matched": [1100, 700, 420, 230],
              "total": [1300, 1000, 760, 560], "c": 1300, "r": 1320}),
    ]


register(Exercise("9.2", "BLEU from the corpus counts", bleu_from_counts,
                  _bleu_cases, rtol=1e-12, atol=1e-15))


# -- 9.3 the backward of the image projection into h(0) ----------------------


def image_state_backward(v, h0, dh0):
    """Reference of 9.3: (dW_v (H, F), db_v (H,))."""
    xp = namespace(v, h0, dh0)
    da = dh0 * (1.0 - h0 * h0)          # through tanh
    return da.T @ v, xp.sum(da, axis=0)


def _state_case(label, seed, B, F, H, scale=1.0):
    r = _rng(seed)
    v = np.maximum(r.normal(size=(B, F)), 0.0)
    W_v, b_v = r.normal(0, scale, (H, F)), r.normal(0, scale, H)
    return Case(label, {"v": v, "h0": np.tanh(v @ W_v.T + b_v),
                        "dh0": r.normal(size=(B, H))})


def _state_cases():
    return [
        _state_case("B = H = F = 1", 91, 1, 1, 1),
        _state_case("B = 3, F = 5, H = 4", 92, 3, 5, 4),
        _state_case("B = 1, F = 8, H = 2", 93, 1, 8, 2),
        _state_case("B = 16, F = 12, H = 6, saturated units", 94, 16, 12,
                    6, 3.0),
        _state_case("B = 5, F = 3, H = 7", 95, 5, 3, 7, 0.5),
    ]


register(Exercise("9.3", "the backward of the image projection into h(0)",
                  image_state_backward, _state_cases,
                  outputs=("dW_v", "db_v")))
