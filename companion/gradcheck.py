"""Numerical gradient checks by central differences (chapters 3, 5, 6).

For a scalar function E(θ) the central difference

    ∂E/∂θ_i ≈ (E(θ + ε e_i) - E(θ - ε e_i)) / (2ε)

has error O(ε²), so in float64 with ε ≈ 1e-6 an analytic gradient that is
right agrees to about 1e-9 in relative error and one that is wrong is off by
far more. The relative error used throughout is

    rel(a, n) = ‖a - n‖ / max(‖a‖ + ‖n‖, tiny)

(norms over all entries), which is 0 for equal arrays, 1 for a gradient of
the wrong sign or a zero one, and does not blow up on entries near 0.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from ._validate import check_array, check_floating, check_positive
from .backend import namespace, to_numpy


class GradCheck(NamedTuple):
    """The outcome of comparing one analytic gradient with a numerical one.

    Attributes:
        rel_error: relative error of the two (module docstring).
        max_abs_error: largest absolute difference of one entry.
        worst_index: index of that entry.
    """

    rel_error: float
    max_abs_error: float
    worst_index: tuple[int, ...]


def numerical_gradient(f: Callable[[Any], Any], x, eps: float = 1e-6):
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` itself is never modified: each entry of a copy is moved by ±eps.

    Args:
        f: maps an array of the shape of ``x`` to a scalar (0-d array or
            float).
        x: floating array, any shape (float64 for meaningful results).
        eps: the step ε.

    Returns:
        An array of the shape, dtype and device of ``x``.
    """
    xp = check_array(x, "x")
    check_floating(x, "x")
    check_positive(eps, "eps")
    point = xp.asarray(x, copy=True)
    grad = xp.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = float(point[index])
        point[index] = old + eps
        upper = float(f(point))
        point[index] = old - eps
        lower = float(f(point))
        point[index] = old
        grad[index] = (upper - lower) / (2.0 * eps)
    return grad


def relative_error(a, b) -> float:
    """‖a - b‖ / max(‖a‖ + ‖b‖, tiny): 0 when equal, 1 for a sign flip."""
    xp = namespace(a, b)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs "
                         f"{tuple(b.shape)}")
    num = float(xp.linalg.vector_norm(a - b))
    den = float(xp.linalg.vector_norm(a)) + float(xp.linalg.vector_norm(b))
    return num / max(den, 1e-300)


def compare(analytic, numerical) -> GradCheck:
    """Relative error, worst absolute difference and where it occurs."""
    rel = relative_error(analytic, numerical)
    diff = np.abs(to_numpy(analytic) - to_numpy(numerical))
    if diff.size == 0:
        return GradCheck(rel, 0.0, ())
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return GradCheck(rel, float(diff[worst]), tuple(int(i) for i in worst))


def check_gradients(loss_fn: Callable[[dict], Any],
                    params: Mapping[str, Any],
                    grads: Mapping[str, Any],
                    eps: float = 1e-6) -> dict[str, GradCheck]:
    """Check every analytic gradient in ``grads`` against ``loss_fn``.

    Args:
        loss_fn: maps a params dict (same keys and shapes) to the scalar
            loss E.
        params: the point θ, ``dict[str, array]``; not modified.
        grads: analytic ∂E/∂θ with exactly the keys of ``params``.

    Returns:
        ``{key: GradCheck}`` for every key, in the order of ``params``.
    """
    if set(params) != set(grads):
        raise ValueError(
            f"params and grads must have the same keys; only in params: "
            f"{sorted(set(params) - set(grads))}, only in grads: "
            f"{sorted(set(grads) - set(params))}")
    results = {}
    for key in params:
        if tuple(grads[key].shape) != tuple(params[key].shape):
            raise ValueError(
                f"grads[{key!r}] has shape {tuple(grads[key].shape)} but "
                f"params[{key!r}] has shape {tuple(params[key].shape)}")
        others = dict(params)

        def loss_of(value, key=key, others=others):
            others[key] = value
            return loss_fn(others)

        numerical = numerical_gradient(loss_of, params[key], eps)
        results[key] = compare(grads[key], numerical)
    return results


def assert_gradients_close(results: Mapping[str, GradCheck],
                           tol: float) -> None:
    """Raise AssertionError naming every key whose rel_error exceeds tol."""
    bad = {k: r for k, r in results.items() if not r.rel_error <= tol}
    if bad:
        lines = [f"{k}: rel_error={r.rel_error:.3e}, max |diff|="
                 f"{r.max_abs_error:.3e} at {r.worst_index}"
                 for k, r in bad.items()]
        raise AssertionError(
            f"gradient check failed (tol {tol:g}):\n  " + "\n  ".join(lines))
