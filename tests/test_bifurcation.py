"""companion.bifurcation: the one-unit network of Doya (1993)."""

import math

import numpy as np
import pytest

from companion import backend as B
from companion import bifurcation as bif
from companion.gradcheck import numerical_gradient, relative_error


@pytest.mark.parametrize("b", [-0.1, -0.5, -2.0])
def test_fold_is_a_tangent_fixed_point(b):
    w = bif.fold_weight(b)
    s = bif.fold_state(w)
    assert abs(math.tanh(w * s + b) - s) < 1e-10, "s is a fixed point"
    assert abs(w * (1 - s ** 2) - 1) < 1e-12, "where the slope is 1"
    assert abs(bif.fold_bias(w) - b) < 1e-12


def test_no_fold_without_a_pair():
    with pytest.raises(ValueError, match="w must be > 1"):
        bif.fold_bias(0.5)
    with pytest.raises(ValueError, match="b must be < 0"):
        bif.fold_weight(0.3)


def test_sweep_matches_a_loop_and_differences(backend):
    w = B.asarray(np.array([0.5, 1.8, 2.2, 3.0]))
    res = bif.sweep(w, -0.5, 0.9, 30, 0.3)
    for i, wi in enumerate(B.to_numpy(w)):
        h = 0.9
        for _ in range(30):
            h = math.tanh(wi * h - 0.5)
        assert abs(float(res.h[i]) - h) < 1e-14
    num = numerical_gradient(
        lambda v: B.namespace(v).sum(bif.sweep(v, -0.5, 0.9, 30, 0.3).loss),
        w)
    assert relative_error(res.grad, num) < 1e-7


def test_jump_is_near_the_fold(backend):
    like = B.asarray(np.zeros(1))
    w_star = bif.fold_weight(-0.5)
    offsets = [w_star - bif.jump_weight(1.5, 2.5, -0.5, 0.9, T, like)
               for T in (100, 400)]
    assert 0 < offsets[1] < offsets[0] < 0.01
    with pytest.raises(ValueError, match="h\\(T\\)"):
        bif.jump_weight(2.2, 2.5, -0.5, 0.9, 100, like)


def test_bad_input():
    with pytest.raises(ValueError, match="T must"):
        bif.sweep(np.ones(2), -0.5, 0.9, 0, 0.0)
    with pytest.raises(TypeError, match="w must be a floating"):
        bif.sweep(np.ones(2, dtype=int), -0.5, 0.9, 3, 0.0)


@pytest.mark.parametrize("w, b", [(2.2, -0.5), (1.5, 0.3), (0.5, 0.1)])
def test_fixed_point_slope_matches_differences(w, b):
    h, slope = bif.fixed_point_slope(w, b)
    assert abs(math.tanh(w * h + b) - h) < 1e-14
    eps = 1e-6
    numeric = (bif.upper_fixed_point(w + eps, b)
               - bif.upper_fixed_point(w - eps, b)) / (2 * eps)
    assert abs(slope - numeric) < 1e-7 * max(1.0, abs(slope))


def test_upper_fixed_point_bad_input():
    with pytest.raises(ValueError, match="w must be >= 0"):
        bif.upper_fixed_point(-1.0, 0.0)
