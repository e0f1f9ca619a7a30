"""Grade exercise notebooks in bulk: ``python -m companion.checks PATH...``.

Each notebook (a ``.ipynb``, or a MyST ``.md``; a folder is searched for
``.ipynb`` files) is executed in a fresh kernel from its own folder, with
broken cells allowed, and with ``COMPANION_CHECKS_REPORT`` naming a file to
which every ``check(...)`` appends its verdict. The exercises a notebook
must check are those of its chapter (``00-foundations.ipynb``: every "0.k"
of the registry), so a deleted check cell counts as a failure. Prints one
row per exercise (notebook | exercise | verdict | cases | first problem)
and returns 1 unless every exercise of every notebook passed, 2 for a
usage error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .checks import PASSED, REPORT_ENV, chapter_ids

USAGE = ("usage: python -m companion.checks NOTEBOOK_OR_FOLDER...\n"
         "grades exercise notebooks (.ipynb, or MyST .md) and folders "
         "of them")
CELL_TIMEOUT = 120  # seconds a cell may run before grading moves on


def notebooks(paths: list[str]) -> list[Path]:
    """The notebooks named by ``paths`` (folders: their ``.ipynb``).

    Raises:
        FileNotFoundError: a path does not exist or holds no notebook.
    """
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            inside = [p for p in sorted(path.glob("**/*.ipynb"))
                      if ".ipynb_checkpoints" not in p.parts]
            if not inside:
                raise FileNotFoundError(f"{name}: no .ipynb notebook here")
            found += inside
        elif path.is_file() and path.suffix in (".ipynb", ".md"):
            found.append(path)
        elif path.exists():
            raise FileNotFoundError(f"{name}: not a notebook (.ipynb, .md)")
        else:
            raise FileNotFoundError(f"{name}: no such file or folder")
    return found


def expected_ids(path: Path) -> list[str]:
    """The exercises of the chapter named by the notebook (``NN-*``)."""
    match = re.match(r"(\d+)[-_]", path.name)
    return chapter_ids(int(match.group(1))) if match else []


def run_notebook(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Execute ``path`` in a fresh kernel; its check records and a note."""
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    fd, report = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    previous = os.environ.get(REPORT_ENV)
    os.environ[REPORT_ENV] = report
    note = ""
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                       allow_errors=True, record_timing=False,
                       resources={"metadata": {
                           "path": str(path.parent.resolve())}}
                       ).execute(stderr=subprocess.DEVNULL)
    except Exception as err:  # a cell timed out or the kernel died
        note = f"execution stopped: {type(err).__name__}"
    finally:
        if previous is None:
            os.environ.pop(REPORT_ENV, None)
        else:
            os.environ[REPORT_ENV] = previous
        with open(report, encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        os.unlink(report)
    return records, note


def summarize(records: list[dict[str, Any]], expected: list[str],
              note: str = "") -> list[dict[str, Any]]:
    """One row per exercise: expected ones first, missing checks failed.

    The last record of an exercise counts (a check run twice).
    """
    last = {r["exercise"]: r for r in records}
    rows = []
    for ex in expected + [i for i in last if i not in expected]:
        rows.append(last.get(ex, {
            "exercise": ex, "verdict": "not checked", "passed": 0,
            "total": 0, "message": note or "its check cell did not run"}))
    if not rows:
        rows.append({"exercise": "-", "verdict": "not checked",
                     "passed": 0, "total": 0,
                     "message": note or "no check ran in this notebook"})
    return rows


def table(graded: list[tuple[str, list[dict[str, Any]]]]) -> str:
    """The text table: notebook | exercise | verdict | cases | problem."""
    head = ("notebook", "exercise", "verdict", "cases", "first problem")
    body = [(name, r["exercise"], r["verdict"],
             f"{r['passed']}/{r['total']}", r["message"])
            for name, rows in graded for r in rows]
    widths = [max(len(str(row[i])) for row in [head] + body)
              for i in range(4)]
    lines = []
    for row in [head] + body:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)]
        lines.append("  ".join(cells + [row[4]]).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade the notebooks named in ``argv``; the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    try:
        paths = notebooks(argv)
        import jupytext  # noqa: F401  (the book/test extras)
        import nbclient  # noqa: F401
    except FileNotFoundError as err:
        print(f"companion.checks: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"companion.checks: {err}; grading notebooks needs jupytext "
              "and nbclient: pip install -e '.[book]'", file=sys.stderr)
        return 2
    graded = []
    for path in paths:
        records, note = run_notebook(path)
        graded.append((str(path), summarize(records, expected_ids(path),
                                            note)))
    print(table(graded))
    rows = [r for _, rs in graded for r in rs]
    failed = sum(r["verdict"] != PASSED for r in rows)
    print(f"\n{len(paths)} notebook(s), {len(rows)} exercise(s): "
          f"{len(rows) - failed} passed, {failed} not passed")
    return 1 if failed else 0
