"""An embedding layer: words as learned vectors (chapter 10).

A vocabulary of V words is a table E (V, D), one row per word. A review
of word indices w(1..T) becomes the inputs of a recurrent layer by row
lookup,

    X(t) = E[w(t)]          (the row of word w(t); x (T, B, D))

which is the product of E^T with the one-hot vector of w(t). So the
backward pass is the transposed product, summed over every step of every
sequence: a row of E collects the gradients of all the places where its
word occurs,

    ∂E/∂E[v] = Σ_{t, b : w(t, b) = v} ∂E/∂X(t, b).

The forward pass gathers (``xp.take``). The backward pass is the product
with the one-hot matrix (N, V) of the N = T B indices (``one_hot``),
computed without forming it, by segment sums (``backward``): written
once against the array API, it runs unchanged on NumPy, CuPy and the
GPU proxy.

Indices are integers in [0, V); anything else is refused with the
offending value, as a wrong index would otherwise read another word's
row (or wrap around from the end) without a sound.
"""

from __future__ import annotations

from ._validate import check_array, check_floating
from .backend import device
from . import init


def init_params(V: int, D: int, rng, scale: float = 0.1, xp=None,
                dtype=None):
    """E (V, D) drawn uniformly from [-scale, scale] on the host."""
    if V < 1 or D < 1:
        raise ValueError(f"need V >= 1 and D >= 1, got V={V}, D={D}")
    return init.uniform((V, D), rng, -scale, scale, xp=xp, dtype=dtype)


def check_ids(ids, V: int, name: str = "ids"):
    """Refuse non-integer indices or indices outside [0, V)."""
    xp = check_array(ids, name)
    if not xp.isdtype(ids.dtype, "integral"):
        raise TypeError(f"{name} must hold integer word indices, got "
                        f"dtype {ids.dtype}")
    if ids.size and (int(xp.min(ids)) < 0 or int(xp.max(ids)) >= V):
        raise ValueError(
            f"{name} must lie in [0, V) = [0, {V}), got values in "
            f"[{int(xp.min(ids))}, {int(xp.max(ids))}]")
    return xp


def forward(E, ids):
    """X(t) = E[w(t)]: rows of E for indices ids of any shape S.

    Args:
        E: the table (V, D); ids: integer indices, e.g. (T, B).

    Returns:
        x of shape S + (D,), e.g. (T, B, D).
    """
    check_array(E, "E", ndim=2)
    check_floating(E, "E")
    xp = check_ids(ids, E.shape[0])
    flat = xp.reshape(ids, (-1,))
    rows = xp.take(E, flat, axis=0)                # E[w] for every w
    return xp.reshape(rows, tuple(ids.shape) + (E.shape[1],))


def one_hot(ids, V: int, dtype):
    """The one-hot matrix (N, V) of the N indices of ``ids`` (flattened),
    in ``dtype`` on the device of ``ids``."""
    xp = check_ids(ids, V)
    flat = xp.reshape(ids, (-1,))
    words = xp.arange(V, device=device(ids))
    return xp.astype(flat[:, None] == words[None, :], dtype)


def backward(ids, dx, V: int):
    """∂E/∂E (V, D): row v sums ∂E/∂X at every position of word v.

    It equals one_hot(ids)^T dX (N, V)^T (N, D), computed as segment
    sums: sort the N positions by word, take running sums of their dX,
    and subtract the running sum at each word's first position from the
    one after its last (``searchsorted``). That is O(N D + V D) instead
    of O(N V D), on every backend (the array API has no scatter-add);
    the subtraction loses about N ulps of the running sum, far below any
    check's tolerance in float64.

    Args:
        ids: the indices of the forward pass, shape S (e.g. (T, B));
        dx: ∂E/∂X of shape S + (D,); V: the vocabulary size.
    """
    xp = check_ids(ids, V)
    check_array(dx, "dx", shape=tuple(ids.shape) + (None,))
    check_floating(dx, "dx")
    flat = xp.reshape(ids, (-1,))
    flat_dx = xp.reshape(dx, (-1, dx.shape[-1]))    # (N, D)
    order = xp.argsort(flat, stable=True)           # positions by word
    words = xp.take(flat, order)
    running = xp.cumulative_sum(xp.take(flat_dx, order, axis=0), axis=0,
                                include_initial=True)   # (N + 1, D)
    vocab = xp.arange(V, dtype=flat.dtype, device=device(ids))
    first = xp.searchsorted(words, vocab, side="left")
    after = xp.searchsorted(words, vocab, side="right")
    return (xp.take(running, after, axis=0)
            - xp.take(running, first, axis=0))
