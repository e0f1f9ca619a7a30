"""Gradient clipping against exploding gradients (chapters 3, 4).

The lectures' rule (Pascanu et al. 2013, Algorithm 1) rescales the whole
gradient when its norm passes a threshold:

    ĝ ← ∂E/∂θ
    if ‖ĝ‖ ≥ threshold:  ĝ ← (threshold / ‖ĝ‖) ĝ

where ‖ĝ‖ is the global norm over every parameter. The direction of the
gradient is kept; only its length is capped. Element-wise clipping (used in
Mikolov's RNNLM and in min-char-rnn) clamps each entry to [-c, c] instead,
which can change the direction.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, NamedTuple

from ._validate import check_positive
from .backend import namespace


class Clipped(NamedTuple):
    """Clipped gradients, the global norm before clipping, and whether the
    threshold was reached."""

    grads: dict[str, Any]
    norm: float
    clipped: bool


def global_norm(grads: Mapping[str, Any]) -> float:
    """sqrt(Σ_k ‖g_k‖²) over every array of the dict."""
    if not grads:
        raise ValueError("grads is empty")
    total = 0.0
    for g in grads.values():
        xp = namespace(g)
        total += float(xp.sum(g * g))
    return math.sqrt(total)


def clip_by_global_norm(grads: Mapping[str, Any],
                        threshold: float) -> Clipped:
    """The lectures' norm-threshold clipping over the global norm.

    Args:
        grads: ``dict[str, array]`` of gradients (not modified).
        threshold: the largest norm allowed, > 0.

    Returns:
        Clipped(grads, norm, clipped): new gradients of global norm
        min(norm, threshold), same direction; ``norm`` is the norm before.
    """
    check_positive(threshold, "threshold")
    norm = global_norm(grads)
    if not math.isfinite(norm):
        raise ValueError(f"the gradient norm is {norm}: the gradients hold "
                         "NaN or infinity and cannot be rescaled")
    if norm >= threshold:
        scale = threshold / norm
        return Clipped({k: g * scale for k, g in grads.items()}, norm, True)
    return Clipped(dict(grads), norm, False)


def clip_elementwise(grads: Mapping[str, Any],
                     threshold: float) -> dict[str, Any]:
    """Clamp every entry of every gradient to [-threshold, threshold]."""
    check_positive(threshold, "threshold")
    out = {}
    for k, g in grads.items():
        xp = namespace(g)
        out[k] = xp.clip(g, -threshold, threshold)
    return out
