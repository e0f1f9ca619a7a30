"""Shared fixtures: every unit test runs on every available backend.

``backend`` makes its backend current for the test and yields it; CuPy is
skipped cleanly where it is missing or sees no GPU. ``to_backend`` moves
host data there, ``host`` brings results back for comparison.
"""

import numpy as np
import pytest
from hypothesis import settings

from companion import backend as B

# property tests draw the same examples on every run: a red CI is then
# reproducible, never a one-off draw
settings.register_profile("course", derandomize=True, deadline=None,
                          database=None)
settings.load_profile("course")

BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("gpu-proxy", id="gpu-proxy"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


@pytest.fixture(autouse=True)
def _restore_backend():
    """No test leaks its choice of backend into the next one."""
    previous = B._current
    yield
    B._current = previous


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request):
    try:
        return B.set_backend(request.param)
    except B.BackendUnavailableError as err:
        pytest.skip(str(err))


@pytest.fixture
def xp(backend):
    return backend.xp


@pytest.fixture
def to_backend(backend):
    def move(x, dtype=None):
        return B.asarray(np.asarray(x), dtype=dtype)
    return move


@pytest.fixture
def host():
    return B.to_numpy
