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
