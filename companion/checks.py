"""The exercise checker: ``check("0.2", my_function)`` in a notebook.

Every exercise of ``exercises/`` is registered here by id ("C.k": chapter
C, exercise k) with the reference implementation from ``companion``, a
generator of fixed and seeded random cases (edge shapes T = 1, B = 1
included) and how to compare (``rtol``/``atol``, or exactly). A check
builds each case on the host, moves it to the current backend with
``backend.asarray``, calls the student's function on fresh copies and the
reference on others, and compares on the host via ``backend.to_numpy``:

    passed  ⇔  |got - want| ≤ atol + rtol |want|  entry-wise (or got == want)

and the inputs are left exactly as they were given. It prints one line per
case (passed, or what differs), never raises, and prints no timing, dtype
or backend name, so a notebook's output is the same on every backend.

Exercise specs live in private modules ``companion/_exercises_*.py``
(chapter 0: ``_exercises_core``), found on first use; a chapter adds its
own with the :func:`register` decorator. Graded in bulk from a shell:

    python -m companion.checks exercises/00-foundations.ipynb submissions/

executes each notebook in a fresh kernel (see ``companion._grade``) and
prints a table of verdicts; the exit status is 1 unless all passed.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import signal
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._compare import compare, describe, modified, short, to_backend

REPORT_ENV = "COMPANION_CHECKS_REPORT"
TIME_LIMIT = 5.0  # seconds per case
PASSED, FAILED, TODO = "passed", "failed", "not implemented"


@dataclass(frozen=True)
class Case:
    """One call: a label and the named arguments, as host data.

    NumPy arrays (also inside dicts) are moved to the backend for each
    call; other values (ints, floats, functions) are passed as they are.
    """

    label: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Exercise:
    """An exercise: id, title, reference, cases and tolerances.

    Attributes:
        id: "C.k", e.g. "0.2"; chapter C's notebook is ``CC-*.ipynb``.
        title: what the student writes, e.g. "one Adam step".
        reference: called with the same arguments as the student's code.
        cases: returns the list of :class:`Case` (seeded, deterministic).
        outputs: names of the outputs when the function returns a tuple.
        rtol, atol: tolerances of floating results; ``exact`` for
            integer answers (e.g. a number of parameters).
        time_limit: seconds a case may run before "took too long".
    """

    id: str
    title: str
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    outputs: tuple[str, ...] = ()
    rtol: float = 1e-9
    atol: float = 1e-12
    exact: bool = False
    time_limit: float = TIME_LIMIT


REGISTRY: dict[str, Exercise] = {}
_loaded = False


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the registry (ids are unique)."""
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise {exercise.id} is registered twice")
    REGISTRY[exercise.id] = exercise
    return exercise


def exercises() -> dict[str, Exercise]:
    """Every registered exercise by id (imports the spec modules once)."""
    global _loaded
    if not _loaded:
        _loaded = True
        here = os.path.dirname(os.path.abspath(__file__))
        for info in pkgutil.iter_modules([here]):
            if info.name.startswith("_exercises_"):
                importlib.import_module(f"{__package__}.{info.name}")
    return REGISTRY


def chapter_ids(chapter: int) -> list[str]:
    """The ids of chapter ``chapter``'s exercises, in order."""
    ids = [i for i in exercises() if i.split(".")[0] == str(chapter)]
    return sorted(ids, key=lambda i: int(i.split(".")[1]))


# -- one check ------------------------------------------------------------


@dataclass
class Report:
    """The verdict on one exercise and the outcome of every case."""

    id: str
    title: str
    verdict: str = PASSED
    cases: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0

    @property
    def passed(self) -> int:
        """Number of cases passed."""
        return sum(msg == PASSED for _, msg in self.cases)

    @property
    def message(self) -> str:
        """The first failure (empty when passed)."""
        return next((f"{label}: {msg}" for label, msg in self.cases
                     if msg != PASSED), "")

    def text(self) -> str:
        """What ``check`` prints."""
        lines = [f"Exercise {self.id}: {self.title}"]
        if self.verdict == TODO:
            lines.append("  not implemented yet: complete the function "
                         "and run this cell again")
            return "\n".join(lines)
        lines += [f"  {label}: {msg}" for label, msg in self.cases]
        if len(self.cases) < self.total:
            lines.append(f"  (the other {self.total - len(self.cases)} "
                         "cases were not run)")
        lines.append(f"  {self.passed}/{self.total} cases passed")
        return "\n".join(lines)

    def record(self) -> dict[str, Any]:
        """The JSON record appended to ``$COMPANION_CHECKS_REPORT``."""
        return {"exercise": self.id, "verdict": self.verdict,
                "passed": self.passed, "total": self.total,
                "message": self.message}


def check(exercise_id: str, function: Any) -> None:
    """Run exercise ``exercise_id``'s cases on ``function``; print verdicts.

    Never raises (a bad id or argument prints a message); with the
    environment variable ``COMPANION_CHECKS_REPORT`` set to a file name,
    also appends a JSON record of the verdict to that file.
    """
    try:
        report = grade(exercise_id, function)
    except (KeyError, TypeError) as err:
        report = Report(str(exercise_id), "", "error",
                        [("check", str(err.args[0]))])
        print(f"check({exercise_id!r}, ...): {err.args[0]}")
    except Exception as err:  # a fault of the checker, not of the student
        report = Report(str(exercise_id), "", "error",
                        [("check", short(err))])
        print(f"check({exercise_id!r}, ...): the checker itself failed "
              f"({type(err).__name__}: {short(err)}); please report it")
    else:
        print(report.text())
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(report.record()) + "\n")


def grade(exercise_id: str, function: Any,
          time_limit: float | None = None) -> Report:
    """The :class:`Report` of ``function`` on exercise ``exercise_id``.

    Raises:
        KeyError: unknown exercise id.
        TypeError: ``function`` is not callable.
    """
    known = exercises()
    if exercise_id not in known:
        raise KeyError(f"there is no exercise {exercise_id!r}; the "
                       f"exercises are {', '.join(known)}")
    ex = known[exercise_id]
    if not callable(function):
        raise TypeError(f"expected the function you wrote for exercise "
                        f"{exercise_id}, got {describe(function)}")
    limit = ex.time_limit if time_limit is None else time_limit
    cases = ex.cases()
    report = Report(ex.id, ex.title, total=len(cases))
    for case in cases:
        outcome = _run_case(ex, case, function, limit)
        if outcome is _NOT_IMPLEMENTED:
            if not report.cases:
                report.verdict = TODO
                return report
            outcome = "raised NotImplementedError"
        report.cases.append((case.label, outcome))
        if outcome.startswith("took too long"):
            break  # the rest would take as long
    if report.passed < report.total:
        report.verdict = FAILED
    return report


_NOT_IMPLEMENTED = "not implemented"


class _Timeout(BaseException):
    """Raised in the student's code when a case passes its time limit."""


def _run_case(ex: Exercise, case: Case, function, limit: float) -> str:
    """``PASSED``, ``_NOT_IMPLEMENTED`` or what went wrong, in words."""
    want = ex.reference(*to_backend(case.inputs).values())
    given = to_backend(case.inputs)
    try:
        got = _call_with_limit(function, list(given.values()), limit)
    except _Timeout:
        return f"took too long (more than {limit:g} s)"
    except NotImplementedError:
        return _NOT_IMPLEMENTED
    except (Exception, SystemExit) as err:
        hint = (" (take xp = backend.namespace(x) and call xp.*, not np.*)"
                if "NumPy" in str(err) else "")
        return f"raised {type(err).__name__}: {short(err)}{hint}"
    changed = modified(case.inputs, given)
    if changed:
        return f"modified its input {changed} (work on a copy)"
    try:
        return compare(got, want, ex, "") or PASSED
    except Exception as err:  # an unexpected result: say what it was
        return f"returned {describe(got)} ({short(err)})"


def _call_with_limit(function, args, limit: float):
    """function(*args), warnings silenced; _Timeout after ``limit`` s."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if (threading.current_thread() is threading.main_thread()
                and hasattr(signal, "setitimer")):
            return _call_with_alarm(function, args, limit)
        return _call_in_thread(function, args, limit)


def _call_with_alarm(function, args, limit):
    def on_alarm(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call_in_thread(function, args, limit):
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = function(*args)
        except BaseException as err:
            box["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise _Timeout()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def main(argv: list[str] | None = None) -> int:
    """The command line: grade notebooks and folders (``_grade``)."""
    from ._grade import main as grade_main

    return grade_main(argv)


if __name__ == "__main__":
    import sys

    # run through the imported module, which holds the registry
    from companion import checks as _checks

    sys.exit(_checks.main())
