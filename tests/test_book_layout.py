"""The book's code and printed outputs fit the page without scrolling.

Checked on every page of ``book/``:

1. **Code lines of at most 79 characters** in the code cells of each
   MyST notebook ``book/*.md`` (the line length of the package, see
   ``test_style.py``). A cell's header is not code and is not checked: its
   YAML block between ``---`` lines (``mystnb:`` captions and alt text)
   and its ``:key: value`` option lines (``:tags: [...]``). A cell tagged
   ``remove-input`` or ``remove-cell`` shows no code.
2. **Printed lines of at most 78 characters** in the outputs stored in
   each ``book/*.ipynb``: stdout and stderr, and the ``text/plain`` of a
   result or display that has no image or HTML (which the page shows
   instead). Cells tagged ``remove-output`` or ``remove-cell`` show none.
   At 1280 px an output box is 688 px wide and holds 78 characters; a
   79th scrolls it (measured in headless Chromium with the theme and
   ``book/_static/course.css``). The browser check, ``.ci/check_book.py``,
   measures the built pages themselves; this test names the line at fault
   without building the book.

A failure names the file and, for each line too long, the line of the
``.md`` (code) or the cell index of the ``.ipynb`` and the line in that
cell's output (output), with the length.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
MAX_CODE, MAX_OUTPUT = 79, 78


CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}")
OPTION = re.compile(r"^:[\w-]+:")
HIDDEN_CODE = {"remove-input", "remove-cell"}
HIDDEN_OUTPUT = {"remove-output", "remove-cell"}
# a display shown as one of these instead of its text/plain
RICH = ("image/", "text/html", "text/markdown", "text/latex")


def is_notebook(page: Path) -> bool:
    """A MyST notebook: front matter that names a kernel."""
    text = page.read_text(encoding="utf-8")
    return text.startswith("---\n") and "\nkernelspec:" in text[:2000]


def cell_tags(header: list[str], yaml_block: bool) -> set[str]:
    """The tags of a code cell, from its YAML header or option lines."""
    if yaml_block:
        meta = yaml.safe_load("\n".join(header)) or {}
    else:
        meta = {}
        for line in header:
            key, _, value = line[1:].partition(":")
            meta[key] = yaml.safe_load(value)
    return set(meta.get("tags") or [])


def long_code_lines(text: str, limit: int = MAX_CODE):
    """(line number, length) of each code line over ``limit`` characters
    in the ``{code-cell}`` blocks of a MyST page, headers excepted."""
    lines = text.split("\n")
    found = []
    k = 0
    while k < len(lines):
        match = CODE_CELL.match(lines[k])
        k += 1
        if not match:
            continue
        fence = match.group(1)
        body_start = k
        header = []
        yaml_block = False
        # the YAML header, or option lines, at the top of the cell
        if k < len(lines) and lines[k].strip() == "---":
            end = k + 1
            while end < len(lines) and lines[end].strip() != "---":
                end += 1
            header = lines[k + 1:end]
            body_start = end + 1
            yaml_block = True
        else:
            while body_start < len(lines) and OPTION.match(
                    lines[body_start]):
                header.append(lines[body_start])
                body_start += 1
        end = body_start
        while end < len(lines) and not (
                lines[end].startswith(fence)
                and lines[end].strip() == fence):
            end += 1
        if not cell_tags(header, yaml_block) & HIDDEN_CODE:
            found += [(n + 1, len(lines[n]))
                      for n in range(body_start, end)
                      if len(lines[n]) > limit]
        k = end + 1
    return found


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def shown_text(output: dict) -> str:
    """The text of an output as the page shows it ('' if none)."""
    if output.get("output_type") == "stream":
        return _text(output.get("text", ""))
    data = output.get("data", {})
    if any(key.startswith(RICH) for key in data):
        return ""
    return _text(data.get("text/plain", ""))


def long_output_lines(notebook: dict, limit: int = MAX_OUTPUT):
    """(cell index, line in its output, length) of each output line over
    ``limit`` characters stored in a notebook."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        if set(cell.get("metadata", {}).get("tags", [])) & HIDDEN_OUTPUT:
            continue
        # consecutive chunks of a stream are one text; a display its own
        blocks, stream = [], None
        for out in cell.get("outputs", []):
            name = out.get("name") if out.get("output_type") == "stream" \
                else None
            if name and name == stream:
                blocks[-1] += shown_text(out)
            else:
                blocks.append(shown_text(out))
            stream = name
        lines = [line for block in blocks if block
                 for line in block.rstrip("\n").split("\n")]
        found += [(index, number, len(line))
                  for number, line in enumerate(lines, 1)
                  if len(line) > limit]
    return found


PAGES = sorted(p for p in BOOK.glob("*.md") if is_notebook(p))
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def test_pages_are_found():
    names = {p.name for p in PAGES}
    assert {"01-recurrent-networks.md", "11-attention.md",
            "performance.md"} <= names
    assert {p.with_suffix(".ipynb").name for p in PAGES} \
        <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_lines_fit(page):
    long = long_code_lines(page.read_text(encoding="utf-8"))
    assert not long, (
        f"book/{page.name}: code lines over {MAX_CODE} characters "
        "(line: length): "
        + ", ".join(f"{n}: {length}" for n, length in long))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_output_lines_fit(notebook):
    long = long_output_lines(
        json.loads(notebook.read_text(encoding="utf-8")))
    assert not long, (
        f"book/{notebook.name}: output lines over {MAX_OUTPUT} characters "
        "(cell, line of its output: length): "
        + ", ".join(f"cell {c}, line {n}: {length}"
                    for c, n, length in long))


def test_detector_skips_headers_and_sees_code():
    wide = "x = " + "1 + " * 20 + "1"
    assert len(wide) > MAX_CODE
    page = "\n".join([
        "Prose is not code: " + "word " * 30,
        "```{code-cell} ipython3",
        "---",
        "mystnb:",
        "  image:",
        "    alt: " + "a long alt text " * 8,
        "tags: [hide-input]",
        "---",
        "y = 1",
        wide,
        "```",
        "```{code-cell} ipython3",
        ":tags: [nbval-ignore-output, " + "x-" * 40 + "]",
        "",
        wide,
        "```",
        "```{code-cell} ipython3",
        ":tags: [remove-input]",
        "",
        wide,
        "```",
        "```python",
        wide,
        "```",
        "```{code-cell} ipython3",
        "---",
        "tags:",
        "- remove-cell",
        "---",
        wide,
        "```",
    ])
    assert long_code_lines(page) == [(10, len(wide)), (15, len(wide))]


def test_detector_reads_shown_outputs_only():
    wide = "z" * (MAX_OUTPUT + 1)
    notebook = {"cells": [
        {"cell_type": "markdown", "source": wide},
        {"cell_type": "code", "metadata": {}, "outputs": [
            {"output_type": "stream", "name": "stdout",
             "text": ["short\n", wide + "\n"]},
            {"output_type": "display_data", "data": {
                "image/png": "...", "text/plain": [wide]}},
            {"output_type": "display_data", "data": {
                "application/papermill.record/text/plain": wide}}]},
        {"cell_type": "code", "metadata": {"tags": ["remove-output"]},
         "outputs": [{"output_type": "stream", "text": wide}]},
        {"cell_type": "code", "metadata": {}, "outputs": [
            {"output_type": "execute_result", "data": {
                "text/plain": ["(1,\n", wide + ")"]}}]},
    ]}
    assert long_output_lines(notebook) == [
        (1, 2, MAX_OUTPUT + 1), (3, 2, MAX_OUTPUT + 2)]
