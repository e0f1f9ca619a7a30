"""A one-unit recurrent network and its saddle-node bifurcation (ch. 4).

The network has one tanh unit, a recurrent weight w, a bias b and no
input (Doya 1993; Pascanu, Mikolov & Bengio 2013):

    h(t) = tanh(w h(t-1) + b),   t = 1..T,   from a given h(0)
    E(w) = ½ (h(T) - y)²

Its fixed points solve h* = tanh(w h* + b). Two of them are born (or
die) together where the map touches the diagonal, i.e. where its slope
w (1 - h*²) is 1: a saddle-node bifurcation, at

    h* = ± s,   s = sqrt(1 - 1/w),   b = atanh(h*) - w h*      (w > 1).

For b < 0 the positive pair appears as w grows past w*(b), the root of

    β(w) = w s - atanh(s) = -b,      dβ/dw = s > 0,

so w* is unique and found by bisection. Below w*, every state falls to
the one negative fixed point; above it, a state started above the
unstable fixed point stays positive: h(T), and E, jump at w ≈ w*.

The derivative is carried forward with the state (forward mode, exact):

    dh(t)/dw = (1 - h(t)²) (h(t-1) + w dh(t-1)/dw),   dh(0)/dw = 0
    dE/dw    = (h(T) - y) dh(T)/dw.

Shapes: w is an array of any shape (one network per entry, evaluated
together); every result has the shape of w.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ._validate import check_array, check_floating, check_positive
from .backend import device, namespace


class Sweep(NamedTuple):
    """h(T), dh(T)/dw, E and dE/dw, each of the shape of w."""

    h: Any
    dh_dw: Any
    loss: Any
    grad: Any


def fold_bias(w: float) -> float:
    """The bias b*(w) < 0 at which the positive pair of fixed points of
    h = tanh(w h + b) is born: b* = atanh(s) - w s, s = sqrt(1 - 1/w)."""
    if not w > 1:
        raise ValueError(f"w must be > 1 for a saddle-node, got {w!r}")
    s = math.sqrt(1.0 - 1.0 / w)
    return math.atanh(s) - w * s


def fold_weight(b: float, tol: float = 1e-13) -> float:
    """The weight w*(b) > 1 at which the positive pair is born, b < 0.

    Solves β(w) = w s - atanh(s) = -b by bisection (β increases in w).
    """
    if not b < 0:
        raise ValueError(f"b must be < 0, got {b!r}")
    check_positive(tol, "tol")
    lo, hi = 1.0, 2.0
    while -fold_bias(hi) < -b:      # β(hi) < -b: not bracketed yet
        lo, hi = hi, 2 * hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if -fold_bias(mid) < -b else (lo, mid)
    return 0.5 * (lo + hi)


def fold_state(w: float) -> float:
    """The state s = sqrt(1 - 1/w) where the pair is born (w > 1)."""
    if not w > 1:
        raise ValueError(f"w must be > 1, got {w!r}")
    return math.sqrt(1.0 - 1.0 / w)


def upper_fixed_point(w: float, b: float, tol: float = 1e-15) -> float:
    """The largest fixed point h* of h = tanh(w h + b) (w >= 0).

    Iterates the map from h = 1: the map increases, so the iterates fall
    monotonically onto the largest fixed point.
    """
    if not w >= 0:
        raise ValueError(f"w must be >= 0, got {w!r}")
    h = 1.0
    for _ in range(10 ** 6):
        new = math.tanh(w * h + b)
        if abs(new - h) <= tol:
            return new
        h = new
    raise ValueError(f"no convergence at w = {w}, b = {b}: too close to "
                     f"the bifurcation")


def fixed_point_slope(w: float, b: float) -> tuple[float, float]:
    """h* = upper_fixed_point(w, b) and dh*/dw by implicit differentiation:
    dh*/dw = h* (1 - h*²) / (1 - w (1 - h*²))."""
    h = upper_fixed_point(w, b)
    slope = 1.0 - h * h
    return h, h * slope / (1.0 - w * slope)


def sweep(w, b: float, h0: float, T: int, y: float) -> Sweep:
    """Run the one-unit network for every weight in ``w`` at once.

    Args:
        w: recurrent weights, floating array of any shape.
        b: the bias; h0: the initial state h(0); T: the number of steps;
        y: the target of h(T).

    Returns:
        Sweep(h(T), dh(T)/dw, E, dE/dw), each of the shape of w.
    """
    xp = check_array(w, "w")
    check_floating(w, "w")
    if not (isinstance(T, int) and T >= 1):
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    h = xp.full(w.shape, h0, dtype=w.dtype, device=device(w))
    d = xp.zeros_like(w)
    for _ in range(T):
        h_new = xp.tanh(w * h + b)          # h(t) = tanh(w h(t-1) + b)
        d = (1 - h_new ** 2) * (h + w * d)  # dh(t)/dw, forward mode
        h = h_new
    err = h - y
    return Sweep(h, d, 0.5 * err ** 2, err * d)


def jump_weight(lo: float, hi: float, b: float, h0: float, T: int,
                like, tol: float = 1e-12) -> float:
    """The weight in [lo, hi] where h(T) changes sign (bisection).

    ``like`` is an array whose namespace, dtype and device are used.
    """
    xp = namespace(like)

    def h_T(w: float) -> float:
        point = xp.full((1,), w, dtype=like.dtype,
                        device=device(like))
        return float(sweep(point, b, h0, T, 0.0).h[0])

    if not h_T(lo) < 0 < h_T(hi):
        raise ValueError(f"h(T) must be < 0 at lo = {lo} and > 0 at "
                         f"hi = {hi}")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if h_T(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)
