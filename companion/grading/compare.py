"""How a check compares a student's result with the reference, in words.

The comparison of (nested tuples, lists and dicts of) arrays and numbers,
as :mod:`.wire` rebuilt them on the host, entry-wise

    |got - want| ≤ atol + rtol |want|   (or got == want for integers),

which reports the first difference: a wrong type (a list where an array
is expected, the caller's own dict where a new one is), a wrong dtype, a
wrong shape, the largest error and where it is, NaN. Every message is made of
shapes and numbers printed to fixed digits, never of type names of the
array library, so it reads the same on every backend.
"""

from __future__ import annotations

import numpy as np

from .wire import Given, GivenList, Other


def compare(got, want, ex, name: str = "") -> str:
    """'' if ``got`` matches ``want``, else what differs, in words.

    ``ex`` gives ``outputs`` (names of tuple entries), ``exact``, ``rtol``
    and ``atol``; ``name`` prefixes the message (e.g. "dz").
    """
    where = f"{name}: " if name else ""
    if got is None:
        return f"{where}returned None (is a return statement missing?)"
    if isinstance(got, Other):
        return f"{where}returned a value of type {got.type_name}"
    if isinstance(want, dict):
        if isinstance(got, Given):
            return (f"{where}returned the dict it was given ({got.name}), "
                    "expected a new dict")
        if not isinstance(got, dict):
            return f"{where}returned {describe(got)}, expected a dict"
        if set(got) != set(want):
            return (f"{where}returned keys {sorted(map(str, got))}, "
                    f"expected {sorted(want)}")
        found = (compare(got[k], want[k], ex,
                         f"{name}[{k!r}]" if name else str(k))
                 for k in want)
        return next((m for m in found if m), "")
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            names = ", ".join(ex.outputs) or f"{len(want)} values"
            return (f"{where}returned {describe(got)}, expected a tuple "
                    f"({names})")
        names = ex.outputs or [f"output {i}" for i in range(len(want))]
        found = (compare(g, w, ex, n) for g, w, n in zip(got, want, names))
        return next((m for m in found if m), "")
    if isinstance(want, list):
        if isinstance(got, GivenList):
            return (f"{where}returned the list it was given ({got.name}), "
                    "expected a new list")
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            return (f"{where}returned {describe(got)}, expected a list of "
                    f"{len(want)} values")
        found = (compare(g, w, ex, f"{name}[{i}]")
                 for i, (g, w) in enumerate(zip(got, want)))
        return next((m for m in found if m), "")
    if isinstance(got, (dict, list, tuple, str)):
        what = "an array" if np.ndim(want) else "a number"
        return f"{where}returned {describe(got)}, expected {what}"
    return _compare_values(got, want, ex, where)


def _compare_values(got, want, ex, where: str) -> str:
    a, b = np.asarray(got), np.asarray(want)
    if a.dtype.kind not in "iuf" or isinstance(got, bool):
        return f"{where}returned {describe(got)}, expected numbers"
    if a.shape != b.shape:
        return (f"{where}wrong shape {_shape(a.shape)}, expected "
                f"{_shape(b.shape)}")
    if b.ndim and a.dtype.kind + str(a.dtype.itemsize) != (
            b.dtype.kind + str(b.dtype.itemsize)) and not (
            a.dtype.kind in "iu" and b.dtype.kind in "iu"):
        return (f"{where}returned an array of {a.dtype.name}, expected "
                f"{b.dtype.name}")
    if ex.exact:
        if a.dtype.kind not in "iu":
            return f"{where}returned {describe(got)}, expected an integer"
        if np.array_equal(a, b):
            return ""
        return f"{where}got {a.tolist()}, expected {b.tolist()}"
    a, b = a.astype(np.float64), b.astype(np.float64)
    bad = ~np.isclose(a, b, rtol=ex.rtol, atol=ex.atol, equal_nan=False)
    if not bad.any():
        return ""
    err = np.where(bad, np.abs(a - b), 0.0)
    err = np.where(np.isnan(err), np.inf, err)
    index = np.unravel_index(int(np.argmax(err)), a.shape)
    at = f" at {list(map(int, index))}" if a.ndim else ""
    size = "inf" if not np.isfinite(err[index]) else f"{err[index]:.1e}"
    got_text, want_text = _distinct(float(a[index]), float(b[index]))
    return (f"{where}max |error| {size}{at} (got {got_text}, expected "
            f"{want_text})")


def _distinct(got: float, want: float) -> tuple[str, str]:
    """Both numbers to 6 significant digits, or more if 6 hide the gap."""
    for digits in (6, 10, 14):
        texts = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if texts[0] != texts[1]:
            break
    return texts


def _shape(shape) -> str:
    return str(tuple(int(n) for n in shape))


def describe(value) -> str:
    """A backend-independent description of a returned value."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return f"the integer {int(value)}"
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
        dot = any(c in text for c in ".ena")  # 5.0, 1e+20, inf, nan
        return f"the number {text if dot else text + '.0'}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {_shape(value.shape)}"
    return f"a value of type {type(value).__name__}"


def short(err: BaseException, limit: int = 120) -> str:
    """The message of ``err`` on one line, at most ``limit`` characters."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
