"""Array backends: one code path for CPU and GPU (used in every chapter).

The only module of the package that knows which array library is in use.

* Functions that receive arrays take the namespace from their inputs:
  ``xp = namespace(x, y)`` (array-api-compat's ``array_namespace``).
* Functions that create arrays take ``xp=None`` and fall back to the backend
  chosen with :func:`set_backend` or the ``COMPANION_BACKEND`` environment
  variable: ``"numpy"`` (default), ``"cupy"``, or the test-only
  ``"gpu-proxy"`` (array-api-strict on a non-default device, which refuses
  silent conversion to NumPy exactly as CuPy does).
* Random numbers are drawn on the host with ``numpy.random.default_rng`` and
  then moved to the device, so CPU and GPU runs print the same numbers.
* dtype policy: float64 on every backend unless ``set_backend(...,
  dtype="float32")`` asks otherwise, so that gradient checks are meaningful
  and a notebook prints the same digits on NumPy and on CuPy.
* :func:`to_numpy` is the single way back to the host (plots, printing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from array_api_compat import device as _device_of

BACKENDS = ("numpy", "cupy", "gpu-proxy")
ENV_VAR = "COMPANION_BACKEND"
_DTYPES = ("float64", "float32")


class BackendUnavailableError(RuntimeError):
    """Raised when a backend is asked for but cannot run here."""


@dataclass(frozen=True)
class Backend:
    """An array namespace, the device arrays are created on, a float dtype.

    Attributes:
        name: one of ``BACKENDS``.
        xp: the array-API namespace (array-api-compat's wrapper for NumPy
            and CuPy, ``array_api_strict`` for the GPU proxy).
        device: device on which new arrays are created.
        float_dtype: default floating dtype (``xp.float64`` unless asked).
    """

    name: str
    xp: Any
    device: Any
    float_dtype: Any

    def __repr__(self) -> str:
        dtype = str(self.float_dtype).rsplit(".", 1)[-1].strip("'>")
        return f"Backend({self.name!r}, dtype={dtype!r})"


_current: Backend | None = None


def _make(name: str, dtype: str) -> Backend:
    """Build a Backend; import its library only now (never at import)."""
    if name not in BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}"
        )
    if dtype not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {_DTYPES}")
    if name == "numpy":
        import array_api_compat.numpy as xp

        device = "cpu"
    elif name == "cupy":
        xp, device = _load_cupy()
    else:
        try:
            import array_api_strict as xp
        except ImportError:
            raise BackendUnavailableError(
                "the 'gpu-proxy' backend needs array-api-strict, a test "
                "dependency: pip install -e '.[test]'"
            ) from None
        device = xp.Device("device1")
    return Backend(name, xp, device, getattr(xp, dtype))


def _load_cupy():
    """Import CuPy and check a GPU is there; one clear error otherwise."""
    try:
        import cupy
    except ImportError:
        raise BackendUnavailableError(
            "backend 'cupy' was asked for but CuPy is not installed; "
            "install it with: pip install -e '.[gpu]' (CuPy for CUDA 12), "
            "or use the 'numpy' backend"
        ) from None
    try:
        available = cupy.is_available()
    except Exception:  # a broken CUDA install raises instead of answering
        available = False
    if not available:
        raise BackendUnavailableError(
            "backend 'cupy' was asked for but CuPy sees no usable CUDA GPU "
            "on this machine; use the 'numpy' backend here"
        )
    import array_api_compat.cupy as xp

    return xp, cupy.cuda.Device()


def set_backend(name: str, dtype: str = "float64") -> Backend:
    """Choose the backend that new arrays are created on.

    Args:
        name: ``"numpy"``, ``"cupy"`` or ``"gpu-proxy"`` (tests only).
        dtype: default floating dtype, ``"float64"`` or ``"float32"``.

    Returns:
        The new current :class:`Backend`.

    Raises:
        BackendUnavailableError: CuPy (or a GPU) is missing.
        ValueError: unknown name or dtype.
    """
    global _current
    _current = _make(name, dtype)
    return _current


def get_backend() -> Backend:
    """The current backend; on first use read ``COMPANION_BACKEND``."""
    global _current
    if _current is None:
        name = os.environ.get(ENV_VAR, "").strip() or "numpy"
        if name not in BACKENDS:
            raise ValueError(
                f"environment variable {ENV_VAR}={name!r} is not a backend; "
                f"choose one of {', '.join(BACKENDS)}"
            )
        _current = _make(name, "float64")
    return _current


def namespace(*arrays: Any) -> Any:
    """The array-API namespace shared by ``arrays`` (TypeError if mixed)."""
    try:
        return array_namespace(*arrays)
    except TypeError as err:
        kinds = ", ".join(sorted({type(a).__module__ + "." + type(a).__name__
                                  for a in arrays}))
        raise TypeError(
            f"expected arrays of one array library, got {kinds}: {err}"
        ) from None


def device(x: Any) -> Any:
    """The device that array ``x`` lives on."""
    return _device_of(x)


def resolve(xp: Any = None) -> Backend:
    """The Backend for a namespace argument (``None``: the current one).

    ``numpy`` and ``cupy`` modules are accepted and mapped to their
    array-API wrappers; a namespace equal to the current backend's keeps
    its device (so ``xp=get_backend().xp`` works under the GPU proxy).
    """
    current = get_backend()
    if xp is None or xp is current.xp or xp is current:
        return current
    if isinstance(xp, Backend):
        return xp
    module = getattr(xp, "__name__", "")
    for name, prefixes in (("numpy", ("numpy", "array_api_compat.numpy")),
                           ("cupy", ("cupy", "array_api_compat.cupy")),
                           ("gpu-proxy", ("array_api_strict",))):
        if module in prefixes:
            return _make(name, "float64")
    raise TypeError(f"unsupported array namespace {module or xp!r}")


def asarray(x: Any, xp: Any = None, dtype: Any = None) -> Any:
    """Move host data (a NumPy array, list or scalar) to the backend.

    Floating data gets the backend's float dtype unless ``dtype`` is given;
    integer and boolean data keep their kind.
    """
    be = resolve(xp)
    host = np.asarray(x)
    if dtype is None and host.dtype.kind == "f":
        dtype = be.float_dtype
    if dtype is None and host.dtype.kind in "iu":
        dtype = be.xp.int64
    return be.xp.asarray(host, dtype=dtype, device=be.device)


def zeros(shape: tuple[int, ...], xp: Any = None, dtype: Any = None) -> Any:
    """Zeros of ``shape`` on the backend, in its float dtype by default."""
    be = resolve(xp)
    dtype = be.float_dtype if dtype is None else dtype
    return be.xp.zeros(shape, dtype=dtype, device=be.device)


def to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any backend (or a SciPy / CuPy sparse matrix) to
    a NumPy array on the host."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (int, float, bool, np.generic, list, tuple)):
        return np.asarray(x)
    module = type(x).__module__
    if module.startswith("scipy.sparse"):      # a sparse reservoir matrix
        return x.toarray()
    if module.startswith("cupyx.scipy.sparse"):
        return x.get().toarray()
    if module.startswith("cupy"):
        return x.get()
    if module.startswith("array_api_strict"):
        import array_api_strict

        return np.asarray(x.to_device(array_api_strict.Device("CPU_DEVICE")))
    raise TypeError(f"cannot convert {type(x).__name__} to a NumPy array")


# -- host-side random numbers ---------------------------------------------


def make_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """A host random generator from an integer seed (or pass one through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(
            seed, (int, np.integer)):
        raise TypeError(
            f"seed must be an int or numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def random_normal(shape, rng, scale: float = 1.0, xp=None, dtype=None):
    """Normal(0, scale²) draws made on the host, then moved to the backend."""
    host = make_rng(rng).normal(0.0, scale, size=shape)
    return asarray(host, xp=xp, dtype=dtype)


def random_uniform(shape, rng, low: float = 0.0, high: float = 1.0,
                   xp=None, dtype=None):
    """Uniform[low, high) draws made on the host, then moved to the backend."""
    if not low < high:
        raise ValueError(f"need low < high, got low={low}, high={high}")
    host = make_rng(rng).uniform(low, high, size=shape)
    return asarray(host, xp=xp, dtype=dtype)


def random_integers(shape, rng, high: int, xp=None):
    """Integers in [0, high) drawn on the host (e.g. token indices)."""
    if high < 1:
        raise ValueError(f"need high >= 1, got {high}")
    host = make_rng(rng).integers(0, high, size=shape)
    return asarray(host, xp=xp)
