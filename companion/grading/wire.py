"""What crosses the trust boundary: plain data, never pickles.

The process that ran a student's function sends back its results as JSON
in which arrays are raw bytes (base64) with a dtype and a shape, and the
grading side rebuilds them with :func:`decode`, which accepts numbers,
strings, None, booleans, tuples, lists, dicts with string keys and
arrays of booleans, integers or floats, nothing else, and no more than
:data:`MAX_NODES` of them. No object is ever unpickled, so a result
cannot run code in the process that judges it.

Two facts about a returned value are only visible where it was made, and
travel with it: that a dict or list *is* one of the function's inputs
(returned the caller's own dict) and the type of a value that is none of
the above ("a value of type Foo").
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

MAX_NODES = 100_000
MAX_DEPTH = 32
_KINDS = "biuf"


class Given(dict):
    """A returned dict that is one of the inputs (its ``name``)."""

    name = ""


class GivenList(list):
    """A returned list that is one of the inputs (its ``name``)."""

    name = ""


class Other:
    """A returned value of a type the checks do not compare."""

    def __init__(self, type_name: str):
        self.type_name = type_name


class WireError(ValueError):
    """The data sent back is not what :func:`encode` writes."""


def _is_array(value) -> bool:
    return (hasattr(value, "shape") and hasattr(value, "dtype")
            and not isinstance(value, (np.generic, type)))


def encode(value: Any, inputs: dict[str, Any] | None = None,
           depth: int = 0) -> Any:
    """``value`` as JSON-able data; ``inputs`` name the caller's objects."""
    from ..backend import to_numpy

    if depth > MAX_DEPTH:
        return {"t": "other", "type": "deeply nested value"}
    if isinstance(value, np.generic):
        return _array(np.asarray(value), "scalar")
    if value is None or isinstance(value, (bool, str)):
        return {"t": "py", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, float):
        return {"t": "float", "v": repr(float(value))}
    for name, given in (inputs or {}).items():
        if value is given and isinstance(value, (dict, list)):
            kind = "given-dict" if isinstance(value, dict) else "given-list"
            return {"t": kind, "name": name,
                    "v": encode(dict(value) if kind == "given-dict"
                                else list(value), None, depth + 1)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"t": "other", "type": "dict with non-string keys"}
        return {"t": "dict", "k": list(value),
                "v": [encode(v, inputs, depth + 1) for v in value.values()]}
    if isinstance(value, (tuple, list)):
        return {"t": "list" if isinstance(value, list) else "tuple",
                "v": [encode(v, inputs, depth + 1) for v in value]}
    if _is_array(value):
        try:
            host = np.asarray(to_numpy(value))
        except Exception:
            return {"t": "other", "type": type(value).__name__}
        return _array(host, "array")
    return {"t": "other", "type": type(value).__name__}


def _array(host: np.ndarray, tag: str) -> dict:
    if host.dtype.kind not in _KINDS:
        return {"t": "other", "type": f"array of {host.dtype.name}"}
    host = np.array(host, order="C", copy=True)
    return {"t": tag, "dtype": host.dtype.str, "shape": list(host.shape),
            "data": base64.b64encode(host.tobytes()).decode("ascii")}


def dumps(message: Any) -> bytes:
    """One message: 8-byte length, then JSON."""
    body = json.dumps(message, allow_nan=True).encode("utf-8")
    return len(body).to_bytes(8, "big") + body


def decode(data: Any) -> Any:
    """The host value of :func:`encode`'s data (raises WireError)."""
    count = [0]
    return _decode(data, count, 0)


def _decode(data, count, depth):
    count[0] += 1
    if count[0] > MAX_NODES or depth > MAX_DEPTH + 2:
        raise WireError("too large a result")
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise WireError("malformed result")
    tag = data["t"]
    if tag == "py":
        value = data.get("v")
        if value is None or isinstance(value, (bool, str)):
            return value
        raise WireError("malformed result")
    try:
        if tag == "int":
            return int(_text(data))
        if tag == "float":
            return float(_text(data))
    except ValueError as err:
        raise WireError("malformed number") from err
    if tag in ("array", "scalar"):
        host = _host_array(data)
        return host[()] if tag == "scalar" else host
    if tag in ("tuple", "list"):
        items = [_decode(v, count, depth + 1) for v in _items(data)]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        keys, values = data.get("k"), _items(data)
        if (not isinstance(keys, list) or len(keys) != len(values)
                or not all(isinstance(k, str) for k in keys)):
            raise WireError("malformed result")
        return {k: _decode(v, count, depth + 1) for k, v in zip(keys, values)}
    if tag in ("given-dict", "given-list"):
        inner = _decode(data.get("v"), count, depth + 1)
        if tag == "given-dict":
            value = Given(inner) if isinstance(inner, dict) else None
        else:
            value = GivenList(inner) if isinstance(inner, list) else None
        if value is None:
            raise WireError("malformed result")
        value.name = str(data.get("name", ""))[:100]
        return value
    if tag == "other":
        return Other(str(data.get("type", "?"))[:100])
    raise WireError("malformed result")


def _text(data) -> str:
    value = data.get("v")
    if not isinstance(value, str) or len(value) > 5000:
        raise WireError("malformed result")
    return value


def _items(data) -> list:
    value = data.get("v")
    if not isinstance(value, list):
        raise WireError("malformed result")
    return value


def _host_array(data) -> np.ndarray:
    try:
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(n) for n in data["shape"])
        raw = base64.b64decode(str(data["data"]), validate=True)
    except (KeyError, TypeError, ValueError) as err:
        raise WireError("malformed array") from err
    if (dtype.kind not in _KINDS or dtype.hasobject
            or any(n < 0 for n in shape)):
        raise WireError("malformed array")
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError("malformed array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
