"""Gradient norms against the time lag: vanishing and exploding (ch. 4).

The gradient that reaches h(t) from the loss at a later step T passes
through the Jacobians of the steps in between (Bengio et al. 1994;
Pascanu et al. 2013):

    ∂h(j)/∂h(j-1) = diag(f_h'(z_h(j))) W_h                    (H, H)
    ∂h(T)/∂h(t)   = ∏_{j=t+1}^{T} diag(f_h'(z_h(j))) W_h
                  = J(T) J(T-1) ··· J(t+1)

and ‖∂h(T)/∂h(t)‖ ≤ ∏_j ‖diag(f_h'(z_h(j)))‖ ‖W_h‖ ≤ (γ σ_max(W_h))^(T-t)
with γ = max |f_h'| (1 for tanh and ReLU, 1/4 for the sigmoid). Hence
σ_max(W_h) < 1/γ is sufficient for the gradient to vanish exponentially
with the lag, and σ_max(W_h) > 1/γ is necessary for it to explode.

Every f_h' is computed from the output h(j) = f_h(z_h(j)), which the
forward cache of ``companion.rnn`` keeps: tanh' = 1 - h², sigmoid' =
h (1 - h), relu' = [h > 0]. The Jacobian products are formed on the
backend; their spectral norms (the largest singular value of a small
H × H matrix) are computed on the host, after ``backend.to_numpy``, since
one number per matrix is all that is needed. ``state_gradient_norms``
measures the other side, ‖∂E/∂h(t)‖, from RNNBACK's per-step dh.

Shapes: x (T, B, D), states (B, H), Jacobians (B, H, H); results are
NumPy arrays on the host, lag- or time-major (T, B).
"""

from __future__ import annotations

import numpy as np

from . import rnn
from .backend import namespace, to_numpy

GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}


def derivative(h, f_h: str = "tanh"):
    """f_h'(z_h) from the output h = f_h(z_h), any shape."""
    xp = namespace(h)
    if f_h == "tanh":
        return 1.0 - h * h
    if f_h == "sigmoid":
        return h * (1.0 - h)
    if f_h == "relu":
        return xp.astype(h > 0, h.dtype)
    raise ValueError(f"f_h must be one of {sorted(GAMMA)}, got {f_h!r}")


def step_jacobian(W_h, h, f_h: str = "tanh"):
    """∂h(t)/∂h(t-1) = diag(f_h'(z_h(t))) W_h for each sequence.

    Args:
        W_h: (H, H). h: h(t), (B, H).

    Returns:
        (B, H, H): row i of W_h scaled by f_h'(z_h(t))_i.
    """
    if W_h.ndim != 2 or W_h.shape[0] != W_h.shape[1]:
        raise ValueError(f"W_h must be (H, H), got {tuple(W_h.shape)}")
    if h.ndim != 2 or h.shape[1] != W_h.shape[0]:
        raise ValueError(f"h must be (B, H) with H = {W_h.shape[0]}, got "
                         f"{tuple(h.shape)}")
    # diag(d) W_h scales the rows: (B, H, 1) * (H, H)
    return derivative(h, f_h)[:, :, None] * W_h


def spectral_norms(J) -> np.ndarray:
    """Largest singular value of each (…, H, H) matrix, on the host."""
    return np.linalg.norm(to_numpy(J), ord=2, axis=(-2, -1))


def jacobian_norms(W_h, hs, f_h: str = "tanh") -> np.ndarray:
    """‖∂h(T)/∂h(T - ℓ)‖₂ for the lags ℓ = 1..T.

    Args:
        W_h: (H, H).
        hs: the states h(0), h(1), ..., h(T), (T + 1, B, H), e.g.
            ``cache.hs`` of ``rnn.hidden_forward``.

    Returns:
        Host array (T, B): row ℓ - 1 is the lag ℓ.
    """
    T = hs.shape[0] - 1
    if T < 1:
        raise ValueError(f"hs must hold h(0)..h(T) with T >= 1, got "
                         f"shape {tuple(hs.shape)}")
    out = []
    product = None
    for lag in range(1, T + 1):
        # J(T - ℓ + 1) = diag(f'(z_h(T - ℓ + 1))) W_h, multiplied on the
        # right: ∂h(T)/∂h(T-ℓ) = ∂h(T)/∂h(T-ℓ+1) · J(T-ℓ+1)
        J = step_jacobian(W_h, hs[T - lag + 1, ...], f_h)
        product = J if product is None else product @ J
        out.append(spectral_norms(product))
    return np.stack(out)


def forward_jacobian_norms(params, x, h0, f_h: str = "tanh"):
    """RNNRUN over x, then :func:`jacobian_norms` of its states.

    Returns:
        Host array (T, B), row ℓ - 1 the lag ℓ.
    """
    _, cache = rnn.hidden_forward(params, x, h0, f_h)
    return jacobian_norms(params["W_h"], cache.hs, f_h)


def state_gradient_norms(params, dhs, cache: rnn.Cache) -> np.ndarray:
    """‖∂E/∂h(t)‖ for t = 1..T from RNNBACK's per-step dh.

    Runs RNNBACK's recurrence (as ``rnn.hidden_backward``) and records
    the norm of dh(t) = dhs(t) + W_h^T dz_h(t+1) for each sequence.

    Args:
        dhs: ∂E/∂h(t) from the outputs, (T, B, H) (part 1).
        cache: the ``rnn.Cache`` of the forward pass.

    Returns:
        Host array (T, B), row t - 1 the step t.
    """
    xp = namespace(dhs)
    T = cache.x.shape[0]
    if tuple(dhs.shape) != (T,) + tuple(cache.hs.shape[1:]):
        raise ValueError(f"dhs must be (T, B, H) = "
                         f"{(T,) + tuple(cache.hs.shape[1:])}, got "
                         f"{tuple(dhs.shape)}")
    norms = [None] * T
    dh_next = xp.zeros_like(dhs[0, ...])
    for t in reversed(range(T)):
        dh = dhs[t, ...] + dh_next                  # part 1 + part 2
        norms[t] = xp.sqrt(xp.sum(dh * dh, axis=1))
        step = rnn.StepCache(cache.x[t, ...], cache.hs[t, ...],
                             cache.hs[t + 1, ...], cache.f_h)
        _, dh_next, _ = rnn.step_backward(params, dh, step)
    return to_numpy(xp.stack(norms, axis=0))


def largest_singular_value(W) -> float:
    """σ_max(W), computed on the host."""
    return float(np.linalg.norm(to_numpy(W), ord=2))


def jacobian_bound(W_h, f_h: str, lag) -> np.ndarray:
    """Pascanu et al.'s bound (γ σ_max(W_h))^ℓ on ‖∂h(T)/∂h(T-ℓ)‖₂."""
    if f_h not in GAMMA:
        raise ValueError(f"f_h must be one of {sorted(GAMMA)}, got {f_h!r}")
    rate = GAMMA[f_h] * largest_singular_value(W_h)
    return rate ** np.asarray(lag, dtype=np.float64)
