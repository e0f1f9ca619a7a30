"""companion.clipping: the lectures' norm threshold and element-wise."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from companion import backend as B
from companion import clipping as C

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[
                        HealthCheck.function_scoped_fixture])
FINITE = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@PROPERTY
@given(a=arrays(np.float64, (3, 2), elements=FINITE),
       b=arrays(np.float64, (4,), elements=FINITE),
       threshold=st.floats(1e-3, 1e3))
def test_global_clipping_caps_norm_and_keeps_direction(backend, a, b,
                                                       threshold):
    grads = {"W": B.asarray(a), "b": B.asarray(b)}
    out = C.clip_by_global_norm(grads, threshold)
    flat = np.concatenate([a.ravel(), b.ravel()])
    norm = np.linalg.norm(flat)
    assert math.isclose(out.norm, norm, rel_tol=1e-12, abs_tol=1e-300)
    new = np.concatenate([B.to_numpy(out.grads[k]).ravel()
                          for k in ("W", "b")])
    new_norm = np.linalg.norm(new)
    assert new_norm <= threshold * (1 + 1e-12) or not out.clipped
    assert out.clipped == (norm >= threshold)
    if out.clipped:
        assert math.isclose(new_norm, threshold, rel_tol=1e-12)
        # same direction: new = c · old with c = threshold / norm > 0
        np.testing.assert_allclose(new, flat * (threshold / norm),
                                   rtol=1e-12, atol=1e-300)
    else:
        np.testing.assert_array_equal(new, flat)


def test_hand_computed_example(backend):
    grads = {"a": B.asarray([3.0, 0.0]), "b": B.asarray([[0.0, 4.0]])}
    out = C.clip_by_global_norm(grads, 1.0)
    assert out.norm == 5.0 and out.clipped
    np.testing.assert_allclose(B.to_numpy(out.grads["a"]), [0.6, 0.0])
    np.testing.assert_allclose(B.to_numpy(out.grads["b"]), [[0.0, 0.8]])
    # inputs untouched
    np.testing.assert_array_equal(B.to_numpy(grads["a"]), [3.0, 0.0])


def test_elementwise_clipping_can_turn_the_direction(backend):
    grads = {"g": B.asarray([10.0, 0.5, -3.0])}
    out = B.to_numpy(C.clip_elementwise(grads, 1.0)["g"])
    np.testing.assert_array_equal(out, [1.0, 0.5, -1.0])
    cos = out @ np.array([10.0, 0.5, -3.0]) / (
        np.linalg.norm(out) * np.linalg.norm([10.0, 0.5, -3.0]))
    assert cos < 0.99  # no longer parallel, unlike norm clipping


def test_bad_input_named(backend):
    with pytest.raises(ValueError, match="threshold must be finite and > 0"):
        C.clip_by_global_norm({"g": B.zeros((2,))}, 0.0)
    with pytest.raises(ValueError, match="NaN or infinity"):
        C.clip_by_global_norm({"g": B.asarray([np.inf, 1.0])}, 1.0)
    with pytest.raises(ValueError, match="grads is empty"):
        C.global_norm({})
