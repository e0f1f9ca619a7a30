"""Input checks shared by the package: clear errors for a user's mistakes.

Each check names the argument and the offending shape, dtype or value, so
that a wrong call fails at the boundary instead of broadcasting silently.
"""

from __future__ import annotations

from typing import Any, Sequence

from .backend import namespace


def check_array(x: Any, name: str, ndim: int | None = None,
                shape: Sequence[int | None] | None = None) -> Any:
    """Check ``x`` is an array with ``ndim`` / ``shape`` (None = any size).

    Returns the array namespace of ``x``.
    """
    try:
        xp = namespace(x)
    except TypeError:
        raise TypeError(
            f"{name} must be an array, got {type(x).__name__}") from None
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if shape is not None:
        if len(shape) != x.ndim or any(
                s is not None and s != n for s, n in zip(shape, x.shape)):
            want = "(" + ", ".join("*" if s is None else str(s)
                                   for s in shape) + ")"
            raise ValueError(
                f"{name} must have shape {want}, got {tuple(x.shape)}")
    return xp


def check_floating(x: Any, name: str) -> None:
    """Check ``x`` has a real floating dtype."""
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must be a floating array, got {x.dtype}")


def check_finite(x: Any, name: str) -> None:
    """Check ``x`` holds no NaN or infinity (one device-to-host sync)."""
    xp = check_array(x, name)
    if not bool(xp.all(xp.isfinite(x))):
        bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
        raise ValueError(f"{name} holds {bad} NaN or infinite value(s)")


def check_positive(value: float, name: str, allow_zero: bool = False):
    """Check a scalar hyper-parameter is (strictly) positive and finite."""
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and value < float("inf")):
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {rule}, got {value!r}")
