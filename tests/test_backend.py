"""companion.backend: choice of backend, dispatch, host RNG, conversion."""

import os
import subprocess
import sys

import numpy as np
import pytest

from companion import backend as B


def test_default_is_numpy_float64(monkeypatch):
    monkeypatch.setattr(B, "_current", None)
    monkeypatch.delenv(B.ENV_VAR, raising=False)
    be = B.get_backend()
    assert be.name == "numpy"
    x = B.zeros((2, 3))
    assert isinstance(x, np.ndarray) and x.dtype == np.float64


def test_environment_variable_chooses_backend(monkeypatch):
    monkeypatch.setattr(B, "_current", None)
    monkeypatch.setenv(B.ENV_VAR, "gpu-proxy")
    assert B.get_backend().name == "gpu-proxy"


def test_bad_environment_variable_names_value(monkeypatch):
    monkeypatch.setattr(B, "_current", None)
    monkeypatch.setenv(B.ENV_VAR, "tensorflow")
    with pytest.raises(ValueError, match="COMPANION_BACKEND='tensorflow'"):
        B.get_backend()


def test_unknown_backend_and_dtype_rejected():
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        B.set_backend("jax")
    with pytest.raises(ValueError, match="unknown dtype 'float16'"):
        B.set_backend("numpy", dtype="float16")


def test_cupy_unavailable_gives_one_clear_error():
    try:
        import cupy
        if cupy.is_available():
            pytest.skip("a GPU is present: CuPy is available here")
    except ImportError:
        pass
    with pytest.raises(B.BackendUnavailableError, match="cupy") as info:
        B.set_backend("cupy")
    # one message, no chained traceback from deep inside CuPy
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_import_does_no_work_and_never_imports_cupy():
    code = ("import sys, companion, companion.backend, companion.init, "
            "companion.optim, companion.losses, companion.clipping, "
            "companion.gradcheck, companion.activations; "
            "print('cupy' in sys.modules, 'array_api_strict' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True,
                         env={**os.environ, B.ENV_VAR: "numpy"})
    assert out.stdout.split() == ["False", "False"]


def test_float32_policy(monkeypatch):
    monkeypatch.setattr(B, "_current", None)
    B.set_backend("numpy", dtype="float32")
    assert B.zeros((1,)).dtype == np.float32
    assert B.random_normal((2,), 0).dtype == np.float32
    B.set_backend("numpy")


def test_host_rng_same_numbers_on_every_backend(backend):
    a = B.to_numpy(B.random_normal((3, 4), 123))
    b = np.random.default_rng(123).normal(size=(3, 4))
    np.testing.assert_array_equal(a, b)
    u = B.to_numpy(B.random_uniform((5,), 7, -1.0, 2.0))
    np.testing.assert_array_equal(u, np.random.default_rng(7).uniform(
        -1.0, 2.0, size=5))
    k = B.random_integers((4,), 3, high=10)
    assert B.namespace(k).isdtype(k.dtype, "integral")
    assert B.to_numpy(k).tolist() == np.random.default_rng(3).integers(
        0, 10, size=4).tolist()


def test_arrays_live_on_the_backend_device(backend, xp):
    x = B.asarray([1.0, 2.0])
    assert B.namespace(x) is xp
    assert B.device(x) == backend.device
    assert x.dtype == backend.float_dtype
    i = B.asarray([1, 2])
    assert i.dtype == xp.int64


def test_namespace_from_inputs(backend, xp):
    x = B.zeros((2,))
    assert B.namespace(x, x) is xp
    with pytest.raises(TypeError, match="array"):
        B.namespace(x, "a string")


def test_resolve_maps_modules():
    import array_api_compat.numpy as cnp
    assert B.resolve(np).xp is cnp
    assert B.resolve(cnp).name == "numpy"
    with pytest.raises(TypeError, match="unsupported array namespace"):
        B.resolve(os)


def test_to_numpy_roundtrip(backend):
    host = np.arange(6.0).reshape(2, 3)
    back = B.to_numpy(B.asarray(host))
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host)
    with pytest.raises(TypeError, match="cannot convert"):
        B.to_numpy(object())


def test_seed_validation():
    with pytest.raises(TypeError, match="seed"):
        B.make_rng(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        B.make_rng(-1)
    g = np.random.default_rng(0)
    assert B.make_rng(g) is g
    with pytest.raises(ValueError, match="low < high"):
        B.random_uniform((2,), 0, 1.0, 1.0)


def test_gpu_proxy_refuses_silent_numpy_conversion():
    """The proxy must catch what CuPy would: a NumPy-only call."""
    B.set_backend("gpu-proxy")
    try:
        x = B.asarray([0.5, -0.5])
        with pytest.raises((RuntimeError, TypeError)):
            np.tanh(x)
        with pytest.raises((RuntimeError, TypeError)):
            np.asarray(x)
    finally:
        B.set_backend("numpy")


@pytest.mark.gpu
def test_cupy_backend_roundtrip():
    cupy = pytest.importorskip("cupy")
    if not cupy.is_available():
        pytest.skip("no CUDA GPU")
    B.set_backend("cupy")
    try:
        x = B.random_normal((3,), 0)
        assert type(x).__module__.startswith("cupy")
        np.testing.assert_array_equal(
            B.to_numpy(x), np.random.default_rng(0).normal(size=3))
    finally:
        B.set_backend("numpy")
