"""Every figure of the book has a caption, real alt text and a page width.

A code cell of ``book/*.md`` that draws (a matplotlib or ``viz`` drawing
call at the top level of the cell, or an image among the outputs stored in
the paired ``.ipynb``) carries in its header::

    mystnb:
      figure:
        caption: what the figure shows (rendered under it)
        name: fig-chNN-...   (a label for {numref}, unique in the book)
      image:
        alt: what a reader who cannot see it needs (screen readers)

Without them myst-nb writes the image's hash file name as its alt text.
Figures are also kept within the page: the text column is 688 px wide at
a 1280 px window and figures are stored at twice their size in inches x
96, so a figure wider than 8 in is shrunk and its lettering with it; a
legend's font is at least 8 pt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p for p in (ROOT / "book").glob("*.md")
               if "\nkernelspec:" in p.read_text(encoding="utf-8")[:2000])

# a drawing call at the top level of a cell (not inside a def)
DRAWS = re.compile(r"^(?:\w[\w, ()]*=\s*)?(?:plt\.(?:show|subplots|figure|"
                   r"plot|imshow|bar)|viz\.draw_\w+|draw_\w+)\(",
                   re.MULTILINE)
FIGSIZE = re.compile(r"figsize=\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)")
LEGEND_FONT = re.compile(r"legend\([^)]*fontsize=([\d.]+)")
# what myst-nb would write without alt text: a hash or a file name
FILE_LIKE = re.compile(r"^[0-9a-f]{16,}|\.(png|svg|jpe?g|pdf)$",
                       re.IGNORECASE)
MAX_WIDTH_IN = 8.0
MIN_LEGEND_PT = 8


def stored_images(page: Path) -> set[int]:
    """Indices of the cells whose stored outputs hold an image."""
    paired = page.with_suffix(".ipynb")
    if not paired.is_file():
        return set()
    cells = json.loads(paired.read_text(encoding="utf-8"))["cells"]
    return {i for i, cell in enumerate(cells)
            for out in cell.get("outputs", [])
            if any(k.startswith("image/") for k in out.get("data", {}))}


def figure_cells():
    for page in PAGES:
        notebook = jupytext.read(page)
        images = stored_images(page)
        for i, cell in enumerate(notebook.cells):
            if cell.cell_type == "code" and (i in images
                                             or DRAWS.search(cell.source)):
                yield page, i, cell


FIGURES = list(figure_cells())


def test_figures_are_found():
    assert len(FIGURES) >= 30, "the book's figures are not found"
    chapters = {page.name for page, _, _ in FIGURES}
    assert {"01-recurrent-networks.md", "07-esn.md",
            "performance.md"} <= chapters


@pytest.mark.parametrize(
    "page, index, cell", FIGURES,
    ids=[f"{p.stem}-cell{i}" for p, i, _ in FIGURES])
def test_figure_has_caption_name_and_alt(page, index, cell):
    where = f"{page.name}, code cell {index}: {cell.source[:60]!r}"
    mystnb = cell.metadata.get("mystnb", {})
    caption = mystnb.get("figure", {}).get("caption", "")
    name = mystnb.get("figure", {}).get("name", "")
    alt = mystnb.get("image", {}).get("alt", "")
    assert len(caption.split()) >= 5, f"{where}: no mystnb.figure.caption"
    assert re.fullmatch(r"fig-[a-z0-9-]+", name), \
        f"{where}: mystnb.figure.name should read fig-chNN-..."
    assert len(alt.split()) >= 5, f"{where}: no mystnb.image.alt"
    assert not FILE_LIKE.search(alt.strip()), f"{where}: alt is a file name"
    assert alt.strip() != caption.strip(), \
        f"{where}: the alt text repeats the caption; say what is seen"


def test_figure_names_are_unique():
    names = [c.metadata.get("mystnb", {}).get("figure", {}).get("name")
             for _, _, c in FIGURES]
    names = [n for n in names if n]
    assert len(names) == len(set(names)), sorted(
        n for n in set(names) if names.count(n) > 1)


@pytest.mark.parametrize(
    "page, index, cell", FIGURES,
    ids=[f"{p.stem}-cell{i}" for p, i, _ in FIGURES])
def test_figure_fits_the_page(page, index, cell):
    where = f"{page.name}, code cell {index}"
    for width, _ in FIGSIZE.findall(cell.source):
        assert float(width) <= MAX_WIDTH_IN, (
            f"{where}: figsize {width} in wide is shrunk on the page; "
            "stack the panels (about 6.4 x 3.6 in each)")
    for size in LEGEND_FONT.findall(cell.source):
        assert float(size) >= MIN_LEGEND_PT, \
            f"{where}: legend fontsize {size} pt is unreadable"


def test_detector_sees_drawing_calls():
    assert DRAWS.search("fig, ax = plt.subplots(figsize=(6, 3))")
    assert DRAWS.search('draw_cell("forget", "title")')
    assert DRAWS.search("folded = viz.draw_folded(left)")
    assert not DRAWS.search("def f(ax):\n    plt.show()")
    assert not DRAWS.search("def f():\n    fig, ax = plt.subplots()")
    assert FILE_LIKE.search("_images/95016b46b472d00f0f1607aadbe466f4.png")
    assert FILE_LIKE.search("95016b46b472d00f0f1607aadbe466f418b28f4d")
    assert not FILE_LIKE.search("Two falling curves; the LSTM's ends lower.")


def test_browser_check_flags_hash_alt_text():
    """.ci/check_book.py fails an <img> whose alt is myst-nb's default."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "check_book", ROOT / ".ci" / "check_book.py")
    check_book = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_book)
    flagged = check_book.FILE_LIKE.search
    assert flagged("_images/95016b46b472d00f0f1607aadbe466f418b28f4d.png")
    assert flagged("figure.svg")
    for _, _, cell in FIGURES:
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert alt and not flagged(alt.strip()), alt
