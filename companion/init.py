"""Weight initialization (chapters 1, 4, 5, 7).

Weights are in math shape: a matrix that maps a vector of size ``fan_in``
to one of size ``fan_out`` has shape (fan_out, fan_in), e.g. W_e is (H, D).

* uniform U[low, high) and Xavier/Glorot uniform U[-a, a) with
  a = gain · sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010);
* orthogonal: Q from the QR decomposition of a Gaussian matrix, signs fixed
  so that Q is uniformly distributed (Saxe et al. 2014);
* identity: the recurrent matrix W_h = scale · I of the IRNN (Le et al. 2015);
* scaling a square matrix to spectral radius rho, max |λ_i(W)| = rho, as for
  an echo-state reservoir (Jaeger 2001).

Every random matrix is built on the host from a seeded NumPy generator and
then moved to the backend, so CPU and GPU get the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_array, check_floating, check_positive
from .backend import asarray, make_rng, to_numpy


def _shape2(shape) -> tuple[int, int]:
    """Validate a matrix shape (fan_out, fan_in)."""
    shape = tuple(shape)
    if len(shape) != 2 or any(not isinstance(n, (int, np.integer)) or n < 1
                              for n in shape):
        raise ValueError(
            f"shape must be (fan_out, fan_in) with positive ints, got {shape}")
    return int(shape[0]), int(shape[1])


def uniform(shape, rng, low: float = -0.1, high: float = 0.1,
            xp=None, dtype=None):
    """Entries drawn from U[low, high); any shape."""
    if not low < high:
        raise ValueError(f"need low < high, got low={low}, high={high}")
    host = make_rng(rng).uniform(low, high, size=tuple(shape))
    return asarray(host, xp=xp, dtype=dtype)


def xavier_uniform(shape, rng, gain: float = 1.0, xp=None, dtype=None):
    """Glorot uniform U[-a, a), a = gain·sqrt(6 / (fan_in + fan_out)).

    Args:
        shape: (fan_out, fan_in), e.g. (H, D) for W_e.
        rng: int seed or ``numpy.random.Generator``.
        gain: multiplies the bound (e.g. 1 for tanh).
    """
    fan_out, fan_in = _shape2(shape)
    check_positive(gain, "gain")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform((fan_out, fan_in), rng, -bound, bound, xp=xp, dtype=dtype)


def orthogonal(shape, rng, gain: float = 1.0, xp=None, dtype=None):
    """A (semi-)orthogonal matrix times ``gain``.

    For a square shape Q^T Q = I; for (m, n) with m > n the columns are
    orthonormal, with m < n the rows are.

    Args:
        shape: (fan_out, fan_in).
        rng: int seed or ``numpy.random.Generator``.
    """
    rows, cols = _shape2(shape)
    check_positive(gain, "gain")
    a = make_rng(rng).normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    # multiply each column by sign(r_ii): Q is then Haar-distributed
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    return asarray(gain * q, xp=xp, dtype=dtype)


def identity(n: int, scale: float = 1.0, xp=None, dtype=None):
    """scale · I of shape (n, n) (IRNN recurrent matrix)."""
    _shape2((n, n))
    return asarray(scale * np.eye(n), xp=xp, dtype=dtype)


def spectral_radius(W) -> float:
    """max_i |λ_i(W)| of a square matrix (eigenvalues computed on host)."""
    check_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {tuple(W.shape)}")
    # the array API has no general eigensolver, so this one scalar is
    # computed on the host; the matrix itself stays on its device
    return float(np.max(np.abs(np.linalg.eigvals(to_numpy(W)))))


def scale_to_spectral_radius(W, rho: float):
    """W · (rho / max_i |λ_i(W)|): the same matrix with spectral radius rho.

    Args:
        W: square matrix (N, N), not all-zero eigenvalues.
        rho: the target spectral radius, > 0.
    """
    check_floating(W, "W")
    check_positive(rho, "rho")
    radius = spectral_radius(W)
    if radius == 0.0:
        raise ValueError("W has spectral radius 0 (nilpotent or zero): "
                         "it cannot be scaled to a positive radius")
    return W * (rho / radius)
