"""Shared by the PyTorch parity tests: the committed fixture files and
the scripts that generate them (tests/fixtures/)."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixtures(npz: Path) -> dict[str, np.ndarray]:
    """Every array of a committed fixture file, by key."""
    with np.load(npz, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def cases(arrays) -> dict[str, dict]:
    """The configurations recorded in the file's metadata, by case name."""
    return json.loads(str(arrays["meta"]))["configs"]


def case_arrays(arrays, name: str) -> dict[str, np.ndarray]:
    """The arrays of one case, without the case prefix."""
    prefix = name + "/"
    return {k[len(prefix):]: v for k, v in arrays.items()
            if k.startswith(prefix)}


def generator(name: str):
    """The fixture script ``tests/fixtures/<name>.py`` as a module (it
    imports torch); skip the test where torch cannot be imported (missing,
    or a broken install)."""
    pytest.importorskip("torch", exc_type=ImportError)
    if str(FIXTURES) not in sys.path:  # the scripts import npz_io
        sys.path.insert(0, str(FIXTURES))
    spec = importlib.util.spec_from_file_location(name,
                                                  FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_relative_error(got, want) -> float:
    """max |got - want| / |want| over the entries where want ≠ 0."""
    nonzero = want != 0
    if not nonzero.any():
        return 0.0
    return float(np.max(np.abs(got - want)[nonzero]
                        / np.abs(want[nonzero])))


def assert_same_fixture(fresh, stored) -> None:
    """A freshly generated fixture holds the stored one's keys, cases,
    shapes and dtypes, and its values to 1e-12 relative."""
    assert set(fresh) == set(stored)
    assert cases(fresh) == cases(stored)
    for key in sorted(set(fresh) - {"meta"}):
        assert fresh[key].shape == stored[key].shape, key
        assert fresh[key].dtype == stored[key].dtype, key
        np.testing.assert_allclose(fresh[key], stored[key], rtol=1e-12,
                                   atol=0, err_msg=key)
