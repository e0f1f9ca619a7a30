"""Every MyST notebook (.md) and its executed .ipynb are in sync.

Fails when someone edited one side only: the inputs (cell types, sources,
tags) of the .ipynb must be those of the .md, every code cell of the .ipynb
must have been executed (so that nbval compares its outputs), and no .ipynb
may lack its .md. Run ``make notebooks`` to bring the pairs back in sync.
"""

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("book", "exercises", "solutions")


def _files(suffix):
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).glob(f"**/*{suffix}")):
            if not {"_build", ".ipynb_checkpoints"} & set(path.parts):
                yield path


def is_notebook(md):
    """A MyST notebook: front matter naming a kernel (plain pages have
    none)."""
    text = md.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    return "\nkernelspec:" in "\n" + text[4:].split("\n---\n", 1)[0]


def myst_notebooks():
    return [md for md in _files(".md") if is_notebook(md)]


def inputs(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])))
            for c in nb.cells]


def first_difference(x, y):
    """The first differing line of two cells' (type, source, tags)."""
    if x[0] != y[0] or x[2] != y[2]:
        return f"type/tags {x[0]} {x[2]} vs {y[0]} {y[2]}"
    lx, ly = x[1].splitlines(), y[1].splitlines()
    for n, (u, v) in enumerate(zip(lx, ly)):
        if u != v:
            return f"line {n + 1}: .md {u!r} vs .ipynb {v!r}"
    return f"{len(lx)} lines in .md vs {len(ly)} in .ipynb"


def test_the_book_has_notebooks():
    assert myst_notebooks(), "no MyST notebook found under book/"


@pytest.mark.parametrize("md", myst_notebooks(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_pair_in_sync_and_executed(md):
    ipynb = md.with_suffix(".ipynb")
    rel = md.relative_to(ROOT)
    assert ipynb.exists(), f"{rel} has no paired .ipynb: run make notebooks"
    source, stored = jupytext.read(md), jupytext.read(ipynb)
    a, b = inputs(source), inputs(stored)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (f"{rel}: cell {i} differs between .md and .ipynb: "
                        f"{first_difference(x, y)}; edit the .md and run "
                        "make notebooks")
    assert len(a) == len(b), (f"{rel}: {len(a)} cells in .md, {len(b)} in "
                              ".ipynb; edit the .md and run make notebooks")
    unexecuted = [i for i, c in enumerate(stored.cells)
                  if c.cell_type == "code" and c.execution_count is None]
    assert not unexecuted, (f"{ipynb.relative_to(ROOT)}: code cells "
                            f"{unexecuted} were never executed")


@pytest.mark.parametrize("ipynb", list(_files(".ipynb")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_ipynb_has_its_source(ipynb):
    assert ipynb.with_suffix(".md").exists(), (
        f"{ipynb.relative_to(ROOT)} has no .md source: notebooks are "
        "written as MyST markdown and paired by jupytext")
