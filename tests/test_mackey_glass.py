"""The Mackey-Glass series (companion.data.mackey_glass)."""

import numpy as np
import pytest

from companion import backend as B
from companion.data import mackey_glass as mg


def test_shape_dtype_and_start():
    s = mg.mackey_glass(300)
    assert s.shape == (300,) and s.dtype == np.float64
    assert s[0] == 1.2                       # x(0) = x0, the history
    assert np.all(np.isfinite(s))
    assert 0.2 < s.min() < s.max() < 1.5


def test_deterministic_and_consistent_with_discard():
    a = mg.mackey_glass(500)
    np.testing.assert_array_equal(a, mg.mackey_glass(500))
    b = mg.mackey_glass(200, discard=300)
    np.testing.assert_array_equal(b, a[300:])


def test_rk4_step_converges():
    """Halving the step changes the first 100 samples by < 1e-4 (the
    interpolated delay makes the scheme second order overall)."""
    coarse = mg.mackey_glass(100, h=0.1)
    fine = mg.mackey_glass(100, h=0.05)
    finer = mg.mackey_glass(100, h=0.025)
    assert np.max(np.abs(coarse - fine)) < 1e-4
    assert np.max(np.abs(fine - finer)) < 0.5 * np.max(np.abs(coarse - fine))


def test_first_steps_match_the_flat_history_solution():
    """While t < tau the delayed value is x0: dx/dt = c - 0.1 x has the
    closed form x(t) = c/0.1 + (x0 - c/0.1) exp(-0.1 t)."""
    c = 0.2 * 1.2 / (1 + 1.2 ** 10)
    t = np.arange(17)
    want = c / 0.1 + (1.2 - c / 0.1) * np.exp(-0.1 * t)
    np.testing.assert_allclose(mg.mackey_glass(17), want, rtol=1e-9)


def test_tau_17_oscillates_but_tau_4_settles_on_the_fixed_point():
    chaotic = mg.mackey_glass(400, discard=1000)
    assert chaotic.std() > 0.15
    # x* = 1 solves 0.2 x / (1 + x^10) = 0.1 x; stable for a short delay
    fixed = mg.mackey_glass(200, tau=4.0, discard=2000)
    np.testing.assert_allclose(fixed, 1.0, atol=1e-10)


def test_one_step_task(backend):
    s = np.arange(6, dtype=np.float64)
    u, y = mg.one_step_task(s, horizon=2)
    assert tuple(u.shape) == (4, 1, 1) == tuple(y.shape)
    assert u.dtype == backend.float_dtype
    np.testing.assert_array_equal(B.to_numpy(y)[:, 0, 0],
                                  B.to_numpy(u)[:, 0, 0] + 2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n must"):
        mg.mackey_glass(0)
    with pytest.raises(ValueError, match="multiples"):
        mg.mackey_glass(10, tau=17.05)
    with pytest.raises(ValueError, match="discard"):
        mg.mackey_glass(10, discard=-1)
    with pytest.raises(ValueError, match="horizon"):
        mg.one_step_task(np.ones(3), horizon=3)
