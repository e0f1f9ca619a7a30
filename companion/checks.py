"""The exercise checker: ``check("0.2", my_function)`` in a notebook.

The checker, the bulk grader and the exercise specifications live in
:mod:`companion.grading`; this module keeps the name the notebooks
import (``from companion.checks import check``) and the command line:

    python -m companion.checks submissions/ --gradebook grades.csv

grades a class's notebooks (see :mod:`companion.grading.bulk`).
"""

from __future__ import annotations

from .grading.checker import (ERROR, FAILED, PASSED, TODO, USES_REFERENCE,
                              Report, check, grade)
from .grading.spec import (REGISTRY, TIME_LIMIT, Case, Exercise,
                           chapter_ids, exercises, register)

__all__ = ["check", "grade", "Report", "Case", "Exercise", "register",
           "exercises", "chapter_ids", "REGISTRY", "TIME_LIMIT", "PASSED",
           "FAILED", "TODO", "USES_REFERENCE", "ERROR", "main"]


def main(argv: list[str] | None = None) -> int:
    """The command line: grade notebooks and folders (``grading.bulk``)."""
    from .grading.bulk import main as bulk_main

    return bulk_main(argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
