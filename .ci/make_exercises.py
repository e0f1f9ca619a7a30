"""Generate exercises/ from solutions/ (the single source of the exercises).

    python .ci/make_exercises.py             write and execute every one
    python .ci/make_exercises.py --check     exit 1 if exercises/ is stale
    python .ci/make_exercises.py --no-execute  write the .md files only

Every MyST notebook ``solutions/X.md`` becomes ``exercises/X.md`` by
:func:`generate`, a pure function of the text: inside a code cell, the
lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` are replaced by

    raise NotImplementedError("Exercise C.k: <title>")

at the marker's indentation, where "Exercise C.k: <title>" is the heading
of the section the cell is in (``## Exercise 0.2: softmax ...``); the
signature and docstring above the markers stay. Markdown between
``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is dropped.
Everything else is copied unchanged. Each written ``exercises/X.md`` is
then executed into ``exercises/X.ipynb`` by ``.ci/notebooks.py``'s
``refresh``; run it through ``make exercises``, which fixes one BLAS thread
and the NumPy backend.

The same source also gives the book's page ``book/exercises/X.md`` by
:func:`book_page`: each exercise section becomes a sphinx-exercise
``exercise`` block (statement, the code to complete, the check cell)
followed by its ``solution`` in a dropdown, closed in the rendered book.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
BOOK_PAGES = ROOT / "book" / "exercises"

CODE_FENCE = re.compile(r"^(`{3,})\{code-cell\}")
HEADING = re.compile(r"^#{1,6}\s+(Exercise\s+(\d+\.\d+)\b.*?)\s*$")
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
# the archive of every exercise notebook at the root of the built book
# (written by book/_ext/course_pages.py)
ARCHIVE = "rnn-from-scratch-exercises.zip"


def generate(md_text: str) -> str:
    """The exercise notebook (MyST text) of a solution notebook.

    Raises:
        ValueError: unbalanced or misplaced markers, or a solution region
            outside an "Exercise C.k" section; the message gives the line.
    """
    out: list[str] = []
    fence = None  # the closing fence of the code cell we are in
    heading = None  # "Exercise C.k: title" of the current section
    region = None  # line number where the open solution region began
    for number, line in enumerate(md_text.splitlines(keepends=True), 1):
        text = line.strip()
        if fence is None:
            opened = CODE_FENCE.match(line)
            if opened:
                fence = opened.group(1)
            elif HEADING.match(line):
                heading = HEADING.match(line).group(1)
            if text in (BEGIN, END):
                raise ValueError(f"line {number}: {text!r} outside a "
                                 "code cell")
            if text == MD_BEGIN or text == MD_END:
                if (text == MD_BEGIN) == (region is not None):
                    raise ValueError(f"line {number}: unbalanced {text}")
                region = number if text == MD_BEGIN else None
                continue
            if region is None and not (text == "" and out
                                       and out[-1].strip() == ""):
                out.append(line)  # one blank line where a region was
            continue
        if text == fence:
            if region is not None:
                raise ValueError(f"line {region}: {BEGIN} without "
                                 f"{END} before the cell ends")
            fence = None
            out.append(line)
        elif text == BEGIN:
            if region is not None:
                raise ValueError(f"line {number}: nested {BEGIN}")
            if heading is None:
                raise ValueError(f"line {number}: solution region outside "
                                 "an '## Exercise C.k: title' section")
            region = number
            indent = line[:len(line) - len(line.lstrip())]
            out.append(_stub(indent, _message(heading)))
        elif text == END:
            if region is None:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            region = None
        elif region is None:
            out.append(line)
    if region is not None or fence is not None:
        raise ValueError(f"line {region}: solution region or code cell "
                         "not closed at the end of the notebook")
    return "".join(out)


def _stub(indent: str, message: str) -> str:
    """The raise statement, on two lines if one would pass 79 chars."""
    quoted = '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
    line = f"{indent}raise NotImplementedError({quoted})\n"
    if len(line) <= 80:
        return line
    return (f"{indent}raise NotImplementedError(\n"
            f"{indent}    {quoted})\n")


def _message(heading: str) -> str:
    """The stub's message: the section heading without markup."""
    return re.sub(r"[`*$]", "", " ".join(heading.split()))


def book_page(md_text: str, notebook: str) -> str:
    """The book's page of a solution notebook (MyST markdown, not run).

    Args:
        md_text: the solution notebook's MyST text.
        notebook: the student notebook's path shown to the reader, e.g.
            ``exercises/00-foundations.ipynb``.
    """
    stub_text = generate(md_text)
    body = _strip_front_matter(md_text)
    stubs = _code_cells(_strip_front_matter(stub_text))
    sections = re.split(r"(?m)^(?=## Exercise )", body)
    preamble, exercises = sections[0], sections[1:]
    title, _, intro = preamble.strip().partition("\n")
    intro = _without_solution_markdown(
        re.sub(r"(?ms)^`{3,}\{code-cell\}.*?^`{3,}\s*$", "", intro))
    # the page is book/exercises/X.md: the repository's root is ../../,
    # the built book's root (where the archive lies) is ../
    out = [title, "",
           f"These exercises are the notebook `{notebook}` of the course's",
           "repository: work there, where the check cell after each",
           "function grades it. Download",
           f"{{download}}`the notebook <../../{notebook}>` (the exercises",
           "without their solutions), or",
           f'<a href="../{ARCHIVE}">all the exercise notebooks</a> in one',
           "archive, with a file that says how to run them. In a clone of",
           "the repository, `make lab` installs JupyterLab into the",
           "course's environment and opens it on `exercises/`; open the",
           "notebook there and run it from the top. The solutions below",
           "stay closed until you open them.", "",
           re.sub(r"\n{3,}", "\n\n", intro.strip()), ""]
    cell = len(_code_cells(preamble))  # cells before the first exercise
    for section in exercises:
        heading, _, rest = section.partition("\n")
        ident, _, name = HEADING.match(heading).group(1).partition(":")
        label = "ex-" + ident.split()[1].replace(".", "-")  # ex-0-1
        statement = _without_solution_markdown(
            re.sub(r"(?ms)^`{3,}\{code-cell\}.*?^`{3,}\s*$", "", rest))
        codes = _code_cells(section)
        shown = [stubs[cell + i] for i in range(len(codes))]
        cell += len(codes)
        solution = [c for c in codes if BEGIN in c]
        number = ident.split()[1]
        out += [f":::{{exercise}} {number}: {name.strip()}",
                f":label: {label}", ":nonumber:", "", statement.strip(), ""]
        for code in shown:
            out += ["```python", code.rstrip(), "```", ""]
        out += [":::", "", f":::{{solution}} {label}", ":class: dropdown", ""]
        for code in solution:
            kept = [line for line in code.splitlines()
                    if line.strip() not in (BEGIN, END)]
            out += ["```python", "\n".join(kept).rstrip(), "```", ""]
        out += [":::", ""]
    return "\n".join(out).rstrip() + "\n"


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        return text.split("\n---\n", 1)[1]
    return text


def _code_cells(text: str) -> list[str]:
    """The sources of the code cells of a MyST text, in order."""
    return re.findall(r"(?ms)^`{3,}\{code-cell\}[^\n]*\n(.*?)^`{3,}\s*$",
                      text)


def _without_solution_markdown(text: str) -> str:
    return re.sub(re.escape(MD_BEGIN) + ".*?" + re.escape(MD_END), "",
                  text, flags=re.S)


def _load_notebooks_tool():
    spec = importlib.util.spec_from_file_location(
        "ci_notebooks", ROOT / ".ci" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pairs() -> list[tuple[Path, Path]]:
    """(solution .md, exercise .md) for every MyST notebook of solutions/."""
    tool = _load_notebooks_tool()
    return [(md, EXERCISES / md.relative_to(SOLUTIONS))
            for md in tool.myst_notebooks([SOLUTIONS])]


def main(argv: list[str]) -> int:
    """Write (and execute) or check every exercise notebook."""
    unknown = set(argv) - {"--check", "--no-execute"}
    if unknown:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for solution, exercise in pairs():
        source = solution.read_text(encoding="utf-8")
        page = BOOK_PAGES / exercise.relative_to(EXERCISES)
        outputs = {exercise: generate(source),
                   page: book_page(source, str(exercise.relative_to(ROOT)
                                               .with_suffix(".ipynb")))}
        for path, text in outputs.items():
            current = (path.read_text(encoding="utf-8")
                       if path.exists() else None)
            if "--check" in argv:
                if text != current:
                    stale.append(path.relative_to(ROOT))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"generated {path.relative_to(ROOT)} from "
                  f"{solution.relative_to(ROOT)}")
        if "--check" not in argv and "--no-execute" not in argv:
            _load_notebooks_tool().refresh(exercise)
    if "--check" in argv:
        sources = {e for _, e in pairs()}
        stale += [p.relative_to(ROOT)
                  for p in sorted(EXERCISES.glob("**/*.md"))
                  if p not in sources]
    if stale:
        print("stale (run make exercises): "
              + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
