"""The exercise checker: ``check("0.2", my_function)`` in a notebook.

A check builds each case of the exercise on the host (:mod:`.spec`),
runs the student's function on all of them in a forked child
(:mod:`.isolate`: own process group, CPU time and memory limited, killed
at the wall-clock limit), once on NumPy and once on the GPU proxy, and
takes back only what the function returned and which inputs it changed.
Only then does it compute the reference, in this process, on fresh
float64 NumPy copies, with NumPy's error state at its default, and
compare on the host:

    passed  ⇔  |got - want| ≤ atol + rtol |want|  entry-wise (or got == want)

with the type, dtype and shape the specification states, and the inputs
(arrays, lists, dicts) left exactly as they were given. It prints one
line per case (passed, or what differs), never raises, and prints no
timing, dtype or backend name, so a notebook's output is the same on
every backend. A function that calls the package's own solution of the
exercise (:mod:`.scan`) is graded "uses the reference implementation"
whatever its results.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import isolate, scan, wire
from .compare import compare, describe, short
from .spec import Exercise, exercises

PASSED, FAILED, TODO = "passed", "failed", "not implemented"
USES_REFERENCE = "uses the reference implementation"
ERROR = "error"


@dataclass
class Report:
    """The verdict on one exercise and the outcome of every case."""

    id: str
    title: str
    verdict: str = PASSED
    cases: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0
    note: str = ""
    proxy: bool = True  # the cases also ran on the GPU proxy

    @property
    def passed(self) -> int:
        """Number of cases passed."""
        return sum(msg == PASSED for _, msg in self.cases)

    @property
    def message(self) -> str:
        """The first problem (empty when passed)."""
        if self.note:
            return self.note
        return next((f"{label}: {msg}" for label, msg in self.cases
                     if msg != PASSED), "")

    def text(self) -> str:
        """What ``check`` prints."""
        lines = [f"Exercise {self.id}: {self.title}"]
        if self.verdict == TODO:
            lines.append("  not implemented yet: complete the function "
                         "and run this cell again")
            return "\n".join(lines)
        if self.verdict == USES_REFERENCE:
            lines.append(f"  {USES_REFERENCE}: {self.note}; write your "
                         "own")
            return "\n".join(lines)
        lines += [f"  {label}: {msg}" for label, msg in self.cases]
        if len(self.cases) < self.total:
            lines.append(f"  (the other {self.total - len(self.cases)} "
                         "cases were not run)")
        lines.append(f"  {self.passed}/{self.total} cases passed")
        if not self.proxy:
            lines.append("  (on NumPy only: the GPU proxy needs "
                         "array-api-strict, pip install -e '.[test]')")
        return "\n".join(lines)

    def record(self) -> dict[str, Any]:
        """The verdict as a plain dict (a row of the gradebook)."""
        return {"exercise": self.id, "verdict": self.verdict,
                "passed": self.passed, "total": self.total,
                "message": self.message}


def lookup(exercise_id: str) -> Exercise:
    """The exercise ``exercise_id`` (KeyError with the known ids)."""
    known = exercises()
    if exercise_id not in known:
        raise KeyError(f"there is no exercise {exercise_id!r}; the "
                       f"exercises are {', '.join(known)}")
    return known[exercise_id]


def check(exercise_id: str, function: Any) -> None:
    """Run exercise ``exercise_id``'s cases on ``function``; print verdicts.

    Never raises: a bad id or argument prints a message, and so does a
    fault of the checker itself.
    """
    try:
        report = grade(exercise_id, function)
    except (KeyError, TypeError) as err:
        print(f"check({exercise_id!r}, ...): {err.args[0]}")
    except Exception as err:  # a fault of the checker, not of the student
        print(f"check({exercise_id!r}, ...): the checker itself failed "
              f"({type(err).__name__}: {short(err)}); please report it")
    else:
        print(report.text())


def grade(exercise_id: str, function: Any,
          time_limit: float | None = None,
          sources: list[str] | None = None, scan_source: bool = True
          ) -> Report:
    """The :class:`Report` of ``function`` on exercise ``exercise_id``.

    ``sources``: the notebook's code cells, where the scan for calls of
    the reference looks for ``function``'s helpers (default: the
    function's own source and, in IPython, the cells run so far).
    ``scan_source=False`` skips that scan (the tests of the cases grade
    wrong answers built on the reference with it).

    Raises:
        KeyError: unknown exercise id.
        TypeError: ``function`` is not callable.
    """
    ex = lookup(exercise_id)
    if not callable(function):
        raise TypeError(f"expected the function you wrote for exercise "
                        f"{exercise_id}, got {describe(function)}")
    found = scan.uses_reference(ex, function, sources) if scan_source \
        else ""
    if found:
        return Report(ex.id, ex.title, USES_REFERENCE,
                      total=len(ex.cases()), note=found)
    limit = ex.time_limit if time_limit is None else time_limit
    cases = ex.cases()
    runs = isolate.run_cases(function, cases, limit)
    report = judge(ex, cases, runs, limit)
    report.proxy = "gpu-proxy" in isolate.backends()
    return report


def judge(ex: Exercise, cases: list, runs: list, limit: float) -> Report:
    """Compare the outcomes of a run (:func:`isolate.run_cases`, or the
    bulk grader's) with the references, computed here and now."""
    report = Report(ex.id, ex.title, total=len(cases))
    for case, outcomes in zip(cases, runs):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outcome = _judge_case(ex, case, outcomes, limit)
        if outcome is TODO:
            if not report.cases:
                report.verdict = TODO
                return report
            outcome = "raised NotImplementedError"
        report.cases.append((case.label, outcome))
    if report.passed < report.total:
        report.verdict = FAILED
    return report


def reference(ex: Exercise, inputs: dict[str, Any]):
    """The expected result of ``inputs``, on float64 NumPy, as host data,
    whatever backend, dtype or NumPy error state the caller has set."""
    from .. import backend

    previous = backend._current
    try:
        backend.set_backend("numpy", "float64")
        given = isolate.to_backend(inputs)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return to_host(ex.reference(*given.values()))
    finally:
        backend._current = previous


_REFERENCES: dict[tuple, Any] = {}


def _reference_of(ex: Exercise, case) -> Any:
    """:func:`reference`, once per case (cases are fixed and seeded, and
    some references are slow: 5.3 builds an LSTM of 128 units)."""
    key = (ex.id, ex.reference, case.label)
    if key not in _REFERENCES:
        _REFERENCES[key] = reference(ex, case.inputs)
    return _REFERENCES[key]


def to_host(value):
    """``value`` with its arrays on the host, tuples as tuples."""
    from .. import backend

    if isinstance(value, dict):
        return {k: to_host(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_host(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_host(v) for v in value)
    if wire._is_array(value):
        return np.array(backend.to_numpy(value), copy=True)
    return value


def _judge_case(ex: Exercise, case, outcomes, limit: float) -> str:
    if outcomes == "timeout":
        return f"took too long (more than {limit:g} s)"
    if isinstance(outcomes, str):  # "died: ..."
        return outcomes.split(": ", 1)[-1]
    want = None
    for outcome in outcomes:
        name = outcome.get("backend")
        status = outcome.get("status")
        where = "" if name == "numpy" else "on the GPU proxy, "
        if status == "todo":
            return TODO
        if status == "raised":
            message = str(outcome.get("message", ""))[:200]
            hint = (" (take xp = backend.namespace(x) and call xp.*, not "
                    "np.*)" if "NumPy" in message or name != "numpy"
                    else "")
            return (f"{where}raised {str(outcome.get('type'))[:40]}: "
                    f"{message}{hint}")
        if status != "returned":
            return "the process running it sent back an unreadable result"
        changed = str(outcome.get("modified", ""))[:100]
        if changed:
            return f"{where}modified its input {changed} (work on a copy)"
        try:
            got = wire.decode(outcome.get("value"))
        except wire.WireError as err:
            return f"{where}sent back an unreadable result ({err})"
        if want is None:
            want = _reference_of(ex, case)
        try:
            found = compare(got, want, ex, "")
        except Exception as err:  # an unexpected result: say what it was
            found = f"returned {describe(got)} ({short(err)})"
        if found:
            return where + found
    return PASSED
