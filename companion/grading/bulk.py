"""Grade a class's notebooks: ``python -m companion.checks PATH...``.

    python -m companion.checks submissions/ --gradebook grades.csv

Every notebook named (a ``.ipynb`` or MyST ``.md``; a folder is searched
for ``.ipynb`` files) is read into memory before any runs, so that no
submission can change or delete another. Then, one at a time:

1. its chapter is read from its content (the ``Exercise C.k`` headings and
   ``check("C.k", ...)`` calls), never from its file name, and it is held
   to every exercise of that chapter;
2. it runs in a fresh kernel, in a temporary folder of its own that is
   deleted afterwards, with its check cells left out; after the cell that
   defines each exercise's function (the name the pristine exercise
   notebook gives it, :data:`.spec.FUNCTIONS`), the grader keeps that
   function, whatever a later cell or the check cell names;
3. a last cell runs each kept function on its exercise's cases in a forked
   child (:mod:`.isolate`) and prints only the outputs, marked with a
   random token; the kernel's process group is killed when it is done;
4. here, in the grader's process, where no student code ever runs, the
   outputs are read as plain data (:mod:`.wire`), the references are
   computed and compared (:func:`.checker.judge`), and the notebook's code
   is scanned for calls of the package's own solution (:mod:`.scan`).

A notebook that cannot be read, whose chapter cannot be told, or whose
kernel dies or hangs before the grading cell returns gets "grader error"
rows, and the run goes on. Rows print as each notebook finishes, under a
progress bar; ``--gradebook FILE`` writes a CSV with one row per student
and exercise (student, notebook, chapter, exercise, verdict, passed,
total, first problem) that a learning platform can import. Exit status:
0 all passed, 1 some exercise not passed, 2 usage error, 3 some grader
error.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from . import isolate
from .checker import ERROR, PASSED, TODO, USES_REFERENCE, judge, lookup
from .scan import forbidden, scan_source
from .spec import FUNCTIONS, chapter_ids

USAGE = ("usage: python -m companion.checks [--gradebook FILE.csv] "
         "[--cell-timeout SECONDS] NOTEBOOK_OR_FOLDER...\n"
         "grades exercise notebooks (.ipynb, or MyST .md) and folders "
         "of them")
CELL_TIMEOUT = 120  # seconds a student's cell may run
GRADER_ERROR = "grader error"
HEADING = re.compile(r"Exercise\s+(\d+)\.(\d+)\b")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+)\.(\d+)["']""")
COLUMNS = ("student", "notebook", "chapter", "exercise", "verdict",
           "passed", "total", "first problem")


def notebooks(paths: list[str]) -> list[tuple[Path, str]]:
    """(notebook, student) for every notebook named by ``paths``.

    The student is the notebook's path inside the folder named, without
    its suffix (``ana/00-foundations``), or its file name's stem.

    Raises:
        FileNotFoundError: a path does not exist or holds no notebook.
    """
    found: list[tuple[Path, str]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            inside = [p for p in sorted(path.glob("**/*.ipynb"))
                      if ".ipynb_checkpoints" not in p.parts]
            if not inside:
                raise FileNotFoundError(f"{name}: no .ipynb notebook here")
            found += [(p, str(p.relative_to(path).with_suffix("")))
                      for p in inside]
        elif path.is_file() and path.suffix in (".ipynb", ".md"):
            found.append((path, path.stem))
        elif path.exists():
            raise FileNotFoundError(f"{name}: not a notebook (.ipynb, .md)")
        else:
            raise FileNotFoundError(f"{name}: no such file or folder")
    return found


def read(path: Path):
    """The notebook at ``path`` (raises on anything unreadable)."""
    import jupytext

    nb = jupytext.read(path)
    if not hasattr(nb, "cells"):
        raise ValueError("not a notebook")
    return nb


def chapter_of(nb) -> int | None:
    """The chapter of most of the exercise headings and check calls."""
    votes: Counter = Counter()
    for cell in nb.cells:
        source = cell.get("source", "")
        if not isinstance(source, str):
            continue
        pattern = HEADING if cell.get("cell_type") == "markdown" else \
            CHECK_CALL
        for match in pattern.finditer(source):
            ex = f"{int(match.group(1))}.{int(match.group(2))}"
            if ex in FUNCTIONS:
                votes[int(match.group(1))] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def _code(cell) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else ""


def _defines(source: str, name: str) -> bool:
    from .scan import _parse

    tree = _parse(source)
    if tree is None:
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(  # name = lambda ...
                isinstance(t, ast.Name) and t.id == name
                for t in node.targets):
            return True
    return False


def _only_checks(source: str) -> bool:
    from .scan import _parse

    tree = _parse(source)
    return bool(tree and tree.body) and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check" for node in tree.body)


def exercise_cells(nb, ids: list[str]) -> dict[str, int]:
    """The index of the code cell that defines each exercise's function:
    the first one after the exercise's heading, else the last anywhere."""
    where: dict[str, int] = {}
    section = None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") == "markdown":
            match = HEADING.search(_code(cell))
            if match and match.group(0).startswith("Exercise"):
                section = f"{int(match.group(1))}.{int(match.group(2))}"
            continue
        if cell.get("cell_type") != "code":
            continue
        for ex in ids:
            if _defines(_code(cell), FUNCTIONS[ex]):
                if ex == section and where.get(f"#{ex}") is None:
                    where[f"#{ex}"] = index
                where[f"*{ex}"] = index
    return {ex: where.get(f"#{ex}", where.get(f"*{ex}")) for ex in ids
            if f"*{ex}" in where}


def grading_notebook(nb, ids: list[str], cells: dict[str, int],
                     token: str, nonce: str):
    """The notebook the kernel runs: the student's cells without their
    check cells, a cell keeping each exercise's function after the cell
    that defines it, and the grading cell at the end."""
    import nbformat

    keep = f"_grader_{token}"
    out = [nbformat.v4.new_code_cell(f"{keep} = {{}}")]
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        source = _code(cell)
        if _only_checks(source):
            continue
        out.append(nbformat.v4.new_code_cell(source))
        for ex, at in cells.items():
            if at == index:
                name = FUNCTIONS[ex]
                out.append(nbformat.v4.new_code_cell(
                    f"try:\n    {keep}[{ex!r}] = {name}\n"
                    "except NameError:\n    pass"))
    out.append(nbformat.v4.new_code_cell(
        "from companion.grading import bulk as _grader_bulk\n"
        f"_grader_bulk.serve({keep}, {json.dumps(ids)}, {nonce!r})"))
    graded = nbformat.v4.new_notebook()
    graded.cells = out
    graded.metadata["kernelspec"] = {"name": "python3",
                                     "display_name": "Python 3",
                                     "language": "python"}
    return graded


def serve(functions: dict, ids: list[str], nonce: str) -> None:
    """In the student's kernel: run each function in a child, print the
    outputs (never a verdict) for the grader, one line per exercise."""
    for ex_id in ids:
        function = functions.get(ex_id)
        if not callable(function):
            line = {"id": ex_id, "missing": True}
        else:
            ex = lookup(ex_id)
            runs = isolate.run_cases(function, ex.cases(), ex.time_limit)
            line = {"id": ex_id, "runs": runs}
        print(nonce + json.dumps(line), flush=True)


def _outputs(nb, nonce: str, ids: list[str]) -> dict[str, dict]:
    """The grading cell's lines, by exercise (first one wins)."""
    found: dict[str, dict] = {}
    cell = nb.cells[-1] if nb.cells else {}
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream"
                   and o.get("name") == "stdout"
                   and isinstance(o.get("text", ""), str))
    for line in text.splitlines():
        if not line.startswith(nonce):
            continue
        try:
            data = json.loads(line[len(nonce):])
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("id") in ids:
            found.setdefault(data["id"], data)
    return found


def _valid_runs(runs) -> list:
    """The runs as :func:`.checker.judge` takes them (bad entries end
    the list with a "died" outcome)."""
    good: list = []
    if not isinstance(runs, list):
        return ["died: the grading cell sent back an unreadable result"]
    for entry in runs:
        if entry == "timeout" or (isinstance(entry, str)
                                  and entry.startswith("died: ")):
            good.append(entry[:300])
            break
        if (isinstance(entry, list) and entry
                and all(isinstance(o, dict) for o in entry)
                and entry[0].get("backend") == "numpy"):
            good.append(entry)
            continue
        good.append("died: the grading cell sent back an unreadable result")
        break
    return good


def run_notebook(nb, ids: list[str], sources: list[str],
                 timeout: float) -> tuple[dict[str, dict], str]:
    """Execute the grading notebook of ``nb``; the outputs and a note
    (why the kernel stopped early, '' if it did not)."""
    from nbclient import NotebookClient

    token, nonce = secrets.token_hex(8), "@@" + secrets.token_hex(16) + " "
    cells = exercise_cells(nb, ids)
    graded = grading_notebook(nb, ids, cells, token, nonce)
    budget = sum(len(lookup(i).cases()) * lookup(i).time_limit * 2 + 10
                 for i in ids)
    folder = tempfile.mkdtemp(prefix="grade-")
    group: dict[str, int] = {}

    def remember(**_):
        provisioner = getattr(client.km, "provisioner", None)
        pgid = getattr(provisioner, "pgid", None)
        if pgid:
            group.setdefault("pgid", pgid)

    env = dict(os.environ, COMPANION_BACKEND="numpy", PYTHONSAFEPATH="1",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    note = ""
    try:
        last = graded.cells[-1]
        client = NotebookClient(
            graded, timeout=timeout, shutdown_kernel="immediate",
            timeout_func=lambda cell: budget if cell is last else timeout,
            kernel_name="python3", allow_errors=True, record_timing=False,
            resources={"metadata": {"path": folder}},
            on_cell_start=remember)
        client.execute(stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       env=env)
    except Exception as err:  # a cell timed out or the kernel died
        note = {"CellTimeoutError": f"a cell ran past the {timeout:g} s "
                "limit: the kernel was stopped",
                "DeadKernelError": "the kernel died"}.get(
                    type(err).__name__,
                    f"the kernel stopped ({type(err).__name__})")
    finally:
        if "pgid" in group:
            try:
                os.killpg(group["pgid"], signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(folder, ignore_errors=True)
    return _outputs(graded, nonce, ids), note


def grade_notebook(nb, timeout: float = CELL_TIMEOUT
                   ) -> tuple[int | None, list[dict[str, Any]]]:
    """(chapter, one row per exercise) for a notebook read in memory."""
    chapter = chapter_of(nb)
    if chapter is None:
        return None, [_row("-", GRADER_ERROR,
                           "no exercise of the course in this notebook")]
    ids = chapter_ids(chapter)
    sources = [_code(c) for c in nb.cells if c.get("cell_type") == "code"
               and not _only_checks(_code(c))]
    found, note = run_notebook(nb, ids, sources, timeout)
    cells = exercise_cells(nb, ids)
    rows = []
    for ex_id in ids:
        ex = lookup(ex_id)
        name = FUNCTIONS[ex_id]
        if ex_id in cells:
            # the exercise's own cell last: its definition is the one graded
            own = sources + [_code(nb.cells[cells[ex_id]])]
            used = scan_source(own, name, forbidden(ex))
            if used:
                rows.append(_row(ex_id, USES_REFERENCE, used, ex=ex))
                continue
        line = found.get(ex_id)
        if line is None and note:
            rows.append(_row(ex_id, GRADER_ERROR, note, ex=ex))
            continue
        if ex_id not in cells:
            rows.append(_row(ex_id, "failed", f"no function {name} is "
                             "defined in the notebook", ex=ex))
            continue
        if line is None:
            rows.append(_row(ex_id, GRADER_ERROR,
                             "the grading cell did not run", ex=ex))
            continue
        if line.get("missing"):
            rows.append(_row(ex_id, "failed", f"{name} was not defined "
                             "when its cell ran (the cell raised?)", ex=ex))
            continue
        cases = ex.cases()
        report = judge(ex, cases, _valid_runs(line.get("runs")),
                       ex.time_limit)
        rows.append(report.record())
    return chapter, rows


def _row(ex_id: str, verdict: str, message: str, ex=None) -> dict:
    total = len(ex.cases()) if ex is not None else 0
    return {"exercise": ex_id, "verdict": verdict, "passed": 0,
            "total": total, "message": message}


def format_rows(name: str, rows: list[dict[str, Any]], widths) -> str:
    """The text rows of one notebook: notebook | exercise | verdict |
    cases | first problem."""
    lines = []
    for r in rows:
        cells = [name, r["exercise"], r["verdict"],
                 f"{r['passed']}/{r['total']}"]
        text = "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))
        lines.append(f"{text}  {r['message']}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade the notebooks named in ``argv``; the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__ if argv else USAGE,
              file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    options = {"--gradebook": None, "--cell-timeout": str(CELL_TIMEOUT)}
    for flag in options:
        if flag in argv:
            at = argv.index(flag)
            if at + 1 >= len(argv):
                print(USAGE, file=sys.stderr)
                return 2
            options[flag] = argv[at + 1]
            del argv[at:at + 2]
    gradebook = options["--gradebook"]
    try:
        cell_timeout = float(options["--cell-timeout"])
    except ValueError:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        found = notebooks(argv)
        import jupytext  # noqa: F401  (the book/test extras)
        import nbclient  # noqa: F401
    except FileNotFoundError as err:
        print(f"companion.checks: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"companion.checks: {err}; grading notebooks needs jupytext "
              "and nbclient: pip install -e '.[book]'", file=sys.stderr)
        return 2
    loaded = []
    for path, student in found:  # all read before any runs
        try:
            loaded.append((path, student, read(path), ""))
        except Exception as err:  # noqa: BLE001 (truncated, garbled, gone)
            loaded.append((path, student, None,
                           f"cannot read the notebook ({type(err).__name__})"))
    from tqdm import tqdm

    width = max(len(str(p)) for p, _, _, _ in loaded)
    widths = (max(width, 8), 8, len(USES_REFERENCE), 5)
    head = "  ".join(h.ljust(w) for h, w in zip(
        ("notebook", "exercise", "verdict", "cases"), widths))
    print(head + "  first problem")
    print("-" * (len(head) + 15), flush=True)
    book = []
    bar = tqdm(loaded, desc="grading", unit="notebook", file=sys.stderr,
               disable=None)
    for path, student, nb, problem in bar:
        chapter = None
        if nb is None:
            rows = [_row("-", GRADER_ERROR, problem)]
        else:
            try:
                chapter, rows = grade_notebook(nb, cell_timeout)
            except Exception as err:  # noqa: BLE001 (never stop the run)
                rows = [_row("-", GRADER_ERROR,
                             f"the grader failed ({type(err).__name__}: "
                             f"{str(err)[:100]})")]
        bar.write(format_rows(str(path), rows, widths), file=sys.stdout)
        sys.stdout.flush()
        book += [{"student": student, "notebook": str(path),
                  "chapter": "" if chapter is None else chapter, **r}
                 for r in rows]
    bar.close()
    if gradebook:
        write_gradebook(gradebook, book)
    passed = sum(r["verdict"] == PASSED for r in book)
    errors = sum(r["verdict"] == GRADER_ERROR for r in book)
    print(f"\n{len(loaded)} notebook(s), {len(book)} exercise(s): {passed} "
          f"passed, {len(book) - passed} not passed ({errors} grader "
          "error(s))")
    if errors:
        return 3
    return 0 if passed == len(book) else 1


def write_gradebook(path: str, rows: list[dict[str, Any]]) -> None:
    """The CSV: one row per student and exercise."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r["student"], r["notebook"], r["chapter"],
                             r["exercise"], r["verdict"], r["passed"],
                             r["total"], r["message"]])


__all__ = ["main", "serve", "grade_notebook", "chapter_of", "notebooks",
           "write_gradebook", "ERROR", "TODO"]
