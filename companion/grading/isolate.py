"""Run a student's function on the cases of an exercise, out of reach.

:func:`run_cases` forks the calling process (on POSIX): the child keeps
the student's helpers and globals, moves into its own process group,
limits its own CPU time and memory with ``resource.setrlimit``, runs the
function on every case and sends back, through a pipe, only what the
function returned (as :mod:`.wire` data), which inputs it modified and
what it raised. The parent never runs the student's code: it reads the
pipe with a wall-clock deadline per case, kills the child's whole
process group when a case passes it or when the last result is in, and
only then, in :mod:`.checker`, computes the references and compares.
Whatever the function does (monkeypatch the checker, loosen a
tolerance, look for the expected answer on the stack, write files) it
does in the child, which is thrown away, and before any expected answer
exists.

Every case runs once on NumPy and once on the GPU proxy (float64 on
both, whatever backend or dtype the notebook chose), with NumPy's error
state at its default and warnings silenced, so that a notebook's state
changes neither what the student's code is given nor the verdict.

Without ``os.fork`` (Windows) the cases run in a thread of the same
process (:func:`_run_in_thread`): the references are still computed
after the student's code has returned and on fresh copies, but the
student's code shares the checker's interpreter (it could patch it), a
function that never returns is abandoned, not stopped, and neither CPU
time nor memory is limited.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import select
import signal
import sys
import threading
import time
import warnings
from typing import Any, Callable

import numpy as np

from . import wire

MEMORY_LIMIT = 4 << 30  # bytes of address space a child may add
MAX_BYTES = 256 << 20   # bytes of results a child may send
STARTUP = 2.0           # seconds allowed on top of the first case


def backends() -> list[str]:
    """The backends every case runs on: NumPy, and the GPU proxy if the
    course's environment has it (array-api-strict)."""
    try:
        import array_api_strict  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "gpu-proxy"]


def host_copy(data):
    """Fresh host copies of the arrays in ``data`` (recursively)."""
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, dict):
        return {k: host_copy(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(host_copy(v) for v in data)
    return data


def to_backend(data):
    """Fresh copies of host ``data`` on the current backend."""
    from .. import backend

    if isinstance(data, np.ndarray):
        return backend.asarray(data.copy())
    if isinstance(data, dict):
        return {k: to_backend(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(to_backend(v) for v in data)
    if callable(data):
        return data
    return copy.deepcopy(data)  # e.g. a random Generator: its own state


def _snapshot(data):
    """What ``data`` holds now, as host values, to detect changes."""
    from .. import backend

    if isinstance(data, dict):
        return ("dict", list(data), [_snapshot(v) for v in data.values()])
    if isinstance(data, (list, tuple)):
        return (type(data).__name__, [_snapshot(v) for v in data])
    if wire._is_array(data):
        return ("array", np.array(backend.to_numpy(data), copy=True))
    if data is None or isinstance(data, (bool, int, float, str)):
        return ("value", data)
    return ("object", id(data))


def modified(before, after, name: str = "") -> str:
    """The name of the first input that changed between two snapshots."""
    if before[0] != after[0]:
        return name or "input"
    if before[0] == "dict":
        if before[1] != after[1]:
            return name
        for key, b, a in zip(before[1], before[2], after[2]):
            found = modified(b, a, f"{name}[{key!r}]" if name else key)
            if found:
                return found
        return ""
    if before[0] in ("list", "tuple"):
        if len(before[1]) != len(after[1]):
            return name
        for i, (b, a) in enumerate(zip(before[1], after[1])):
            found = modified(b, a, f"{name}[{i}]")
            if found:
                return found
        return ""
    if before[0] == "array":
        b, a = before[1], after[1]
        same = (b.shape == a.shape and b.dtype == a.dtype
                and np.array_equal(b, a, equal_nan=b.dtype.kind in "fc"))
        return "" if same else name
    return "" if before[1] == after[1] else name


def call_case(function, inputs: dict[str, Any], backend_name: str) -> dict:
    """One call of ``function`` on ``inputs`` moved to ``backend_name``.

    Returns the outcome as plain data: {"status": "returned", "value",
    "modified"}, {"status": "raised", "type", "message"} or {"status":
    "todo"} (NotImplementedError).
    """
    from .. import backend
    from .compare import short

    backend.set_backend(backend_name, "float64")
    given = to_backend(inputs)
    before = {k: _snapshot(v) for k, v in given.items()}
    args = list(given.values())
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got = function(*args)
    except NotImplementedError:
        return {"status": "todo", "backend": backend_name}
    except BaseException as err:  # noqa: BLE001 (SystemExit, ... too)
        return {"status": "raised", "type": type(err).__name__,
                "message": short(err), "backend": backend_name}
    try:
        changed = ""
        for key in given:
            changed = modified(before[key], _snapshot(given[key]), key)
            if changed:
                break
        value = wire.encode(got, given)
    except BaseException as err:  # noqa: BLE001
        return {"status": "raised", "type": type(err).__name__,
                "message": short(err), "backend": backend_name}
    return {"status": "returned", "value": value, "modified": changed,
            "backend": backend_name}


def run_cases(function: Callable, cases: list, time_limit: float,
              names: list[str] | None = None) -> list[list[dict] | str]:
    """Each case's outcomes (one per backend), or why none came back.

    An entry is a list of :func:`call_case` outcomes, one per backend of
    ``names`` (default :func:`backends`), or a string for the case where
    the run stopped: "timeout" or "died: ..."; the cases after it are
    missing from the list.
    """
    names = backends() if names is None else names
    if not hasattr(os, "fork"):
        return _run_in_thread(function, cases, time_limit, names)
    return _run_in_child(function, cases, time_limit, names)


def _child(write_fd: int, function, cases, names, cpu_seconds: float):
    """The forked child: limits, quiet output, one message per case."""
    os.setpgid(0, 0)
    try:
        import resource

        cpu = int(math.ceil(cpu_seconds)) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        if sys.platform.startswith("linux"):
            with open("/proc/self/statm") as f:
                pages = int(f.read().split()[0])
            size = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_LIMIT
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
    except (ImportError, ValueError, OSError):
        pass
    # nothing but the pipe: not the kernel's sockets, not the test
    # runner's channel, not the files the parent has open
    write_fd = os.dup2(write_fd, 3, inheritable=False)
    os.closerange(4, _max_fd())
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdout = sys.stderr = io.StringIO()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    out = os.fdopen(write_fd, "wb", buffering=0)
    for case in cases:
        outcomes = [call_case(function, case.inputs, name) for name in names]
        sys.stdout = sys.stderr = io.StringIO()  # drop what was printed
        out.write(wire.dumps(outcomes))


def _max_fd() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):
        soft = 4096
    return soft if 0 < soft < 1 << 20 else 1 << 16


def _run_in_child(function, cases, time_limit, names):
    read_fd, write_fd = os.pipe()
    per_case = time_limit * len(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # threads
        pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_fd)
            _child(write_fd, function, cases, names,
                   per_case * len(cases) + STARTUP)
        finally:
            os._exit(0)
    os.close(write_fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    results: list[list[dict] | str] = []
    buffer = b""
    received = 0
    deadline = time.monotonic() + per_case + STARTUP
    try:
        while len(results) < len(cases):
            message, buffer = _take(buffer)
            if message is not None:
                try:
                    outcomes = json.loads(message)
                    if (not isinstance(outcomes, list)
                            or len(outcomes) != len(names)
                            or not all(isinstance(o, dict)
                                       for o in outcomes)):
                        raise ValueError
                except ValueError:
                    results.append("died: it sent back an unreadable result")
                    break
                results.append(outcomes)
                deadline = time.monotonic() + per_case
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                results.append("timeout")
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            received += len(chunk)
            if not chunk or received > MAX_BYTES:
                results.append(_death(pid, received > MAX_BYTES))
                break
            buffer += chunk
    finally:
        os.close(read_fd)
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return results


def _take(buffer: bytes):
    """(one message, the rest) or (None, buffer) if none is complete."""
    if len(buffer) < 8:
        return None, buffer
    size = int.from_bytes(buffer[:8], "big")
    if len(buffer) < 8 + size:
        return None, buffer
    return buffer[8:8 + size], buffer[8 + size:]


def _death(pid: int, too_much: bool) -> str:
    if too_much:
        return "died: it sent back more than 256 MiB"
    status = None
    for _ in range(50):  # the pipe closed: the child is ending, or hiding
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return "died: the process running it ended"
        if done:
            break
        time.sleep(0.02)
    else:
        return "died: it closed its connection to the checker"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        why = {getattr(signal, "SIGXCPU", -1): "used up its CPU time",
               signal.SIGKILL: "was killed (out of memory?)",
               signal.SIGSEGV: "crashed (segmentation fault)"}.get(
                   sig, f"was stopped by signal {sig}")
        return f"died: the process running it {why}"
    return (f"died: the process running it exited (status "
            f"{os.WEXITSTATUS(status)}) before returning")


def _run_in_thread(function, cases, time_limit, names):
    """The fallback without fork: same process, a thread per case."""
    from .. import backend

    previous = backend._current
    results: list[list[dict] | str] = []
    try:
        for case in cases:
            box: dict[str, Any] = {}

            def target(case=case):
                box["v"] = [call_case(function, case.inputs, name)
                            for name in names]

            worker = threading.Thread(target=target, daemon=True)
            worker.start()
            worker.join(time_limit * len(names))
            if worker.is_alive():
                results.append("timeout")
                break
            results.append(json.loads(json.dumps(box["v"])))
    finally:
        backend._current = previous
    return results
