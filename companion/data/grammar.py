"""Symbol-string tasks: the embedded Reber grammar and digit reversal
(chapter 8).

The Reber grammar (Reber 1967) is a finite automaton over the alphabet
B T S X P V E; its strings start with B and end with E. The embedded
Reber grammar (Hochreiter & Schmidhuber 1997) wraps one:

    B  T  <Reber string>  T  E      or      B  P  <Reber string>  P  E,

so the second symbol must be repeated as the second-to-last one, after
a Reber string of any length: a dependency across a long gap.

Many-to-one task: a string is *valid* (label 1) or *corrupted* (label
0: its second-to-last symbol swapped, T <-> P); the inner string is the
same kind in both classes, so only the long-range match tells them apart.

Sequence-to-sequence task: reverse a string of L digits.

Everything is drawn on the host from a seed; ``one_hot_padded`` moves a
batch to the backend, time-major (T, B, V), zero vectors after the end.
"""

from __future__ import annotations

import numpy as np

from ..backend import asarray, make_rng, resolve

ALPHABET = "BTSXPVE"
# state -> [(symbol, next state)]; state 6 emits E and stops
_REBER = {0: [("B", 1)], 1: [("T", 2), ("P", 3)], 2: [("S", 2), ("X", 4)],
          3: [("T", 3), ("V", 5)], 4: [("X", 3), ("S", 6)],
          5: [("P", 4), ("V", 6)], 6: [("E", None)]}


def reber_string(rng) -> str:
    """One string of the Reber grammar, each branch taken with p = 1/2."""
    rng = make_rng(rng)
    out, state = [], 0
    while state is not None:
        options = _REBER[state]
        symbol, state = options[int(rng.integers(len(options)))]
        out.append(symbol)
    return "".join(out)


def is_reber(text: str) -> bool:
    """Whether ``text`` is a string of the Reber grammar."""
    state = 0
    for symbol in text:
        if state is None:
            return False
        nxt = dict(_REBER[state]).get(symbol, -1)
        if nxt == -1:
            return False
        state = nxt
    return state is None


def embedded_reber(rng) -> str:
    """B, T or P, a Reber string, the same T or P, E."""
    rng = make_rng(rng)
    wrap = "TP"[int(rng.integers(2))]
    return "B" + wrap + reber_string(rng) + wrap + "E"


def is_embedded_reber(text: str) -> bool:
    """Whether ``text`` is a string of the embedded Reber grammar."""
    return (len(text) >= 4 and text[0] == "B" and text[-1] == "E"
            and text[1] in "TP" and text[-2] == text[1]
            and is_reber(text[2:-2]))


def reber_classification(n: int, seed, max_len: int | None = None):
    """n strings and labels (host int64 (n,)): half valid (1), half with
    the second-to-last symbol swapped (0), in a random order.

    ``max_len`` redraws longer strings (None: no limit).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if max_len is not None and max_len < 9:
        raise ValueError(f"max_len must be >= 9 (the shortest string), "
                         f"got {max_len}")
    rng = make_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    strings = []
    for label in labels:
        s = embedded_reber(rng)
        while max_len is not None and len(s) > max_len:
            s = embedded_reber(rng)
        if label == 0:
            s = s[:-2] + {"T": "P", "P": "T"}[s[-2]] + s[-1]
        strings.append(s)
    return strings, labels.astype(np.int64)


def one_hot_padded(strings, alphabet: str = ALPHABET, xp=None):
    """x (T, B, V) one-hot, zero after each string's end, T the longest;
    and the lengths (host int64 (B,))."""
    if not strings:
        raise ValueError("need at least one string")
    index = {c: i for i, c in enumerate(alphabet)}
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    host = np.zeros((int(lengths.max()), len(strings), len(alphabet)))
    for b, s in enumerate(strings):
        for t, c in enumerate(s):
            if c not in index:
                raise ValueError(f"symbol {c!r} is not in {alphabet!r}")
            host[t, b, index[c]] = 1.0
    return asarray(host, xp=xp), lengths


def last_step_mask(lengths, T: int, xp=None):
    """The many-to-one mask (T, B): 1 at t = length - 1, 0 elsewhere."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths must lie in [1, {T}], got "
                         f"[{lengths.min()}, {lengths.max()}]")
    host = np.zeros((T, lengths.size))
    host[lengths - 1, np.arange(lengths.size)] = 1.0
    return asarray(host, xp=xp, dtype=resolve(xp).float_dtype)


def digit_reversal(n: int, L: int, seed):
    """n strings of L random digits and their reversals: host int64
    arrays (n, L) each, y_i = x_i read backwards."""
    if n < 1 or L < 1:
        raise ValueError(f"n and L must be >= 1, got {n}, {L}")
    digits = make_rng(seed).integers(0, 10, size=(n, L))
    return digits.astype(np.int64), digits[:, ::-1].astype(np.int64)
