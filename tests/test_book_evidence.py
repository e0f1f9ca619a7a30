"""The book's prose states no number by hand, and no output escapes checking.

Two rules of the course (README, "For authors"), checked on every page of
``book/*.md``:

1. **A decimal number in a prose paragraph is glued or cited.** A number
   such as ``0.0516`` written in the text would go stale the first time a
   re-execution changes the result, so a measured number (and a setting the
   code uses, like a step size) is inserted with myst-nb's glue,
   ``{glue:text}`name:.4f```, from the cell that computes it. A value from
   the literature may be written out, with its citation (``{cite}``) in the
   same sentence. Not prose, and not checked: code cells and fenced blocks,
   math (``$...$``, ``$$...$$``: symbols and their definitions), inline
   code, the content of roles (``{ref}``, ``{glue:text}``, ...), directive
   options, HTML comments and link targets, and the line numbers of the
   lectures' pseudo-code ("line 2.4", a table row ``| 2.4 ...``).
   Exercises are referred to by ``{ref}`3.2 <ex-3-2>``` (a link, too).
2. **A cell left out of nbval's byte comparison asserts its claim.** A cell
   tagged ``nbval-ignore-output`` (a chaotic run, closed-loop generation)
   must contain an ``assert`` — the claim the prose draws from it, with a
   tolerance band measured under several BLAS kernels — and the README's
   authors' section must list it by file and reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "book").glob("*.md"))
NOTEBOOK_DIRS = ("book", "solutions", "exercises")

# a decimal number: digits, a point, digits, not part of a longer token
DECIMAL = re.compile(r"(?<![\w.\\/-])\d+\.\d+(?![\w.]*\d)")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
ROLE = re.compile(r"\{[\w:+-]+\}`[^`]*`")
PSEUDO_LINE = re.compile(
    r"\b(?:lines?|parts? \d of line)\s+\d\.\d(?:(?:,\s*|\s+and\s+|\s+to\s+)"
    r"\d\.\d)*")
TABLE_LINE_NUMBER = re.compile(r"^\|\s*\d\.\d\s")
VERSION = re.compile(r"\b(?:Python|NumPy|CuPy|CUDA|Jupyter Book)\s+\d+\.\d+")


def prose_lines(text: str):
    """(line number, prose text) of a MyST page, with code, math, roles,
    inline code, comments and directive options removed."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0] == "---":
        start = lines.index("---", 1) + 1
    fence = None
    display_math = False
    comment = False
    for number, line in enumerate(lines[start:], start + 1):
        stripped = line.strip()
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        opened = FENCE.match(line)
        if opened:
            fence = opened.group(1)
            continue
        if comment:
            comment = "-->" not in line
            continue
        if stripped.startswith("<!--"):
            comment = "-->" not in stripped
            continue
        if stripped.startswith("$$"):
            closes_here = len(stripped) > 2 and stripped.endswith("$$")
            if not closes_here:
                display_math = not display_math
            continue
        if display_math:
            continue
        if re.match(r"^:[\w-]+:", stripped):  # a directive's option
            continue
        line = re.sub(r"\$[^$]*\$", " ", line)  # inline math
        line = ROLE.sub(" ", line)  # {cite}`...`, {glue:text}`...`
        line = re.sub(r"``[^`]*``|`[^`]*`", " ", line)  # inline code
        line = re.sub(r"\]\([^)]*\)", "]", line)  # link targets
        line = PSEUDO_LINE.sub(" ", line)
        line = TABLE_LINE_NUMBER.sub("| ", line)
        line = VERSION.sub(" ", line)
        yield number, line


def sentences_with_citations(text: str) -> list[tuple[int, int]]:
    """Line spans of the sentences (in the raw text) that cite a source."""
    spans = []
    for match in re.finditer(r"\{cite[^}]*\}`[^`]*`", text):
        # the sentence around the citation: back to the previous full stop
        # followed by a space or a blank line, on to the next one
        before = text.rfind(". ", 0, match.start())
        blank = text.rfind("\n\n", 0, match.start())
        begin = max(before, blank, 0)
        after = re.search(r"\.(\s|$)|\n\n", text[match.end():])
        end = match.end() + (after.start() if after else len(text))
        spans.append((text.count("\n", 0, begin) + 1,
                      text.count("\n", 0, end) + 1))
    return spans


def stray_numbers(path: Path) -> list[str]:
    """Every decimal number of the page's prose that is neither glued nor
    in a sentence with a citation, as 'file:line: number: text'."""
    text = path.read_text(encoding="utf-8")
    cited = sentences_with_citations(text)
    found = []
    for number, line in prose_lines(text):
        for match in DECIMAL.finditer(line):
            if any(a <= number <= b for a, b in cited):
                continue
            found.append(f"{path.relative_to(ROOT)}:{number}: "
                         f"{match.group()}: {line.strip()[:90]}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_prose_numbers_are_glued_or_cited(page):
    found = stray_numbers(page)
    assert not found, (
        "decimal numbers typed into the prose (glue them from the cell "
        "that computes them, or cite the source in the same sentence):\n"
        + "\n".join(found))


def test_the_lint_catches_a_typed_number(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "---\nkernelspec:\n  name: python3\n---\n\n"
        "The error is 0.0516 on the test set.\n\n"
        "The error is {glue:text}`err:.4f`, with $\\beta = 0.5$ and\n"
        "`lr = 0.01`; lines 2.4 and 2.5 of the algorithm.\n\n"
        "LSTMs reach 1.25 bits per character {cite}`graves2013`.\n\n"
        "```{code-cell} ipython3\nprint(0.25)\n```\n", encoding="utf-8")
    found = [f.split(": ")[1] for f in _relative(stray_numbers, page)]
    assert found == ["0.0516"], found


def _relative(function, path):
    """Call ``function(path)`` with ROOT temporarily at the path's
    folder (stray_numbers prints paths relative to ROOT)."""
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return function(path)
    finally:
        ROOT = saved


def _notebooks():
    for folder in NOTEBOOK_DIRS:
        for md in sorted((ROOT / folder).glob("**/*.md")):
            if "_build" in md.parts:
                continue
            head = md.read_text(encoding="utf-8")[:400]
            if head.startswith("---\n") and "\nkernelspec:" in head:
                yield md


def ignored_cells():
    """(notebook, cell index, source) of every cell kept out of nbval's
    comparison."""
    for md in _notebooks():
        for index, cell in enumerate(jupytext.read(md).cells):
            if "nbval-ignore-output" in cell.metadata.get("tags", []):
                yield md, index, cell.source


def test_every_cell_left_out_of_the_comparison_asserts_and_is_listed():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    problems = []
    for md, index, source in ignored_cells():
        name = str(md.relative_to(ROOT))
        if not re.search(r"^\s*assert\b", source, re.M):
            problems.append(f"{name} cell {index}: tagged "
                            "nbval-ignore-output but asserts nothing")
        if f"`{name}`" not in readme:
            problems.append(f"{name} cell {index}: not listed in the "
                            "README's table of cells left out of nbval")
    assert not problems, "\n".join(problems)
