"""Long-range tasks: the adding problem and the copy-memory task (ch. 4).

Both are generated on the host from a seed and moved to the backend; the
shapes are time-major. Each returns a ``bptt.Batch(x, y, mask)`` ready for
``bptt.full_bptt`` / ``bptt.train``.

Adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al.
2015). Input x (T, B, 2): channel 0 holds values v(t) ~ U[0, 1], channel 1
is a marker m(t) with exactly two 1s, the first at a position drawn
uniformly from the first half, t1 ∈ {0, ..., ⌊T/2⌋ - 1}, the second from
the second half, t2 ∈ {⌊T/2⌋, ..., T - 1} (0-based). Many-to-one: the
target y (T, B, 1) is v(t1) + v(t2) at the last step t = T - 1 and 0
elsewhere, and the mask (T, B) is 1 at the last step only. Trivial
baseline: always answering E[v(t1) + v(t2)] = 1 gives the mean squared
error Var(v(t1) + v(t2)) = 2 · 1/12 = 1/6.

Copy memory (the form of Arjovsky et al. 2016), for a lag T. A sequence
has T + 20 steps: 10 symbols drawn uniformly from {1, ..., 8}, then
T - 1 blanks (0), the delimiter 9, then 10 blanks; x is its one-hot
coding (T + 20, B, 10). The target y (T + 20, B) of class indices is
T + 10 blanks and then the 10 symbols, in order: each symbol must be
recalled T + 10 steps after it was seen. Output alphabet: 9 classes
(blank and the 8 symbols; the delimiter is never a target). Trivial
baseline: blanks for T + 10 steps (loss 0), then a uniform guess over the
8 symbols, cross-entropy 10 · ln 8 in all, 10 · ln 8 / (T + 20) per step.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import device, make_rng, namespace, resolve
from ..bptt import Batch

ADDING_BASELINE = 1.0 / 6.0  # Var(U1 + U2) = 2 / 12
COPY_SYMBOLS, COPY_ALPHABET = 10, 8
COPY_BLANK, COPY_DELIMITER = 0, 9
COPY_INPUTS, COPY_CLASSES = 10, 9


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def adding_batch(values, first, second) -> Batch:
    """The adding problem's (x, y, mask) from its random draws.

    x(t) = (v(t), m(t)) with m(t) = 1 at t = t1 and t = t2, 0 elsewhere;
    y = v(t1) + v(t2) at the last step; mask 1 at the last step only.

    Args:
        values: v(t) in [0, 1], (T, B) floating, on the backend.
        first, second: t1 and t2 (0-based), (B,) integers, t1 != t2.

    Returns:
        Batch(x (T, B, 2), y (T, B, 1), mask (T, B)).
    """
    xp = namespace(values)
    if values.ndim != 2:
        raise ValueError(f"values must be (T, B), got {tuple(values.shape)}")
    T, B = values.shape
    for name, pos in (("first", first), ("second", second)):
        if tuple(pos.shape) != (B,):
            raise ValueError(f"{name} must be (B,) = ({B},), got "
                             f"{tuple(pos.shape)}")
    dev, dtype = device(values), values.dtype
    steps = xp.arange(T, device=dev)[:, None]            # (T, 1)
    hit = (steps == first[None, :]) | (steps == second[None, :])
    marker = xp.astype(hit, dtype)                       # m(t), (T, B)
    x = xp.stack([values, marker], axis=2)               # (T, B, 2)
    total = xp.sum(values * marker, axis=0)              # v(t1) + v(t2)
    last = xp.astype(steps == T - 1, dtype)              # (T, 1)
    y = (last * total[None, :])[..., None]               # (T, B, 1)
    mask = last * xp.ones((T, B), dtype=dtype, device=dev)
    return Batch(x, y, mask)


def adding_problem(T: int, B: int, seed, xp=None, dtype=None) -> Batch:
    """A batch of the adding problem with T steps, drawn from ``seed``.

    t1 is uniform in the first half {0..⌊T/2⌋-1}, t2 in the second half
    {⌊T/2⌋..T-1}; values U[0, 1]. See :func:`adding_batch`.

    Returns:
        Batch(x (T, B, 2), y (T, B, 1), mask (T, B)) on the backend.
    """
    T = _check_int(T, "T", 2)
    B = _check_int(B, "B", 1)
    rng = make_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(T, B))
    first = rng.integers(0, T // 2, size=B)
    second = rng.integers(T // 2, T, size=B)
    be = resolve(xp)
    dtype = dtype or be.float_dtype
    return adding_batch(be.xp.asarray(values, dtype=dtype, device=be.device),
                        be.xp.asarray(first, device=be.device),
                        be.xp.asarray(second, device=be.device))


def copy_batch(symbols, T: int, xp=None, dtype=None) -> Batch:
    """The copy-memory task's (x, y) for given symbols and lag T.

    Args:
        symbols: host integers in {1..8}, (10, B) (any number n of
            symbols works: the sequence has T + 2n steps).
        T: the lag, >= 1 (T - 1 blanks between symbols and delimiter).

    Returns:
        Batch(x one-hot (T + 2n, B, 10), y classes (T + 2n, B), None).
    """
    T = _check_int(T, "T", 1)
    sym = np.asarray(symbols)
    if sym.ndim != 2 or sym.shape[0] < 1:
        raise ValueError(f"symbols must be (n, B), got {sym.shape}")
    if sym.dtype.kind not in "iu" or sym.min() < 1 or \
            sym.max() > COPY_ALPHABET:
        raise ValueError(f"symbols must be integers in 1..{COPY_ALPHABET}")
    n, B = sym.shape
    blanks = np.full((T - 1, B), COPY_BLANK)
    delimiter = np.full((1, B), COPY_DELIMITER)
    tail = np.full((n, B), COPY_BLANK)
    inputs = np.concatenate([sym, blanks, delimiter, tail])     # (T+2n, B)
    targets = np.concatenate([np.full((T + n, B), COPY_BLANK), sym])
    be = resolve(xp)
    x = np.eye(COPY_INPUTS)[inputs]
    return Batch(be.xp.asarray(x, dtype=dtype or be.float_dtype,
                               device=be.device),
                 be.xp.asarray(targets.astype(np.int64), device=be.device))


def copy_memory(T: int, B: int, seed, xp=None, dtype=None) -> Batch:
    """A batch of the copy-memory task with lag T, drawn from ``seed``.

    Returns:
        Batch(x (T + 20, B, 10), y (T + 20, B) in 0..8, mask None).
    """
    T = _check_int(T, "T", 1)
    B = _check_int(B, "B", 1)
    symbols = make_rng(seed).integers(1, COPY_ALPHABET + 1,
                                      size=(COPY_SYMBOLS, B))
    return copy_batch(symbols, T, xp=xp, dtype=dtype)


def copy_baseline(T: int, n: int = COPY_SYMBOLS,
                  alphabet: int = COPY_ALPHABET) -> float:
    """Cross-entropy per step of the memoryless strategy: n · ln A / (T + 2n).

    Blanks where the target is surely blank, a uniform guess over the A
    symbols at the n recall steps.
    """
    return n * math.log(alphabet) / (T + 2 * n)
