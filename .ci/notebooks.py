"""Re-execute every paired notebook from its MyST source (authors' tool).

    python .ci/notebooks.py refresh book solutions exercises
    python .ci/notebooks.py refresh book/04-vanishing-exploding.md

For each MyST notebook ``X.md`` (a ``.md`` with a ``kernelspec``), the
paired ``X.ipynb`` is rewritten from the ``.md`` and executed in its own
folder. Run it through ``make notebooks``, which fixes one BLAS thread and
the NumPy backend, so the stored outputs do not depend on the machine.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient


def myst_notebooks(folders):
    """The ``.md`` files of ``folders`` (or the ``.md`` files named) that
    are jupytext notebooks."""
    for folder in folders:
        folder = Path(folder)
        if folder.suffix in (".md", ".ipynb"):
            if is_notebook(folder.with_suffix(".md")):
                yield folder.with_suffix(".md")
            continue
        for md in sorted(folder.glob("**/*.md")):
            if "_build" in md.parts:
                continue
            if is_notebook(md):
                yield md


def is_notebook(md: Path) -> bool:
    """A MyST notebook: front matter that names a kernel (plain pages of
    the book have none, and are never executed)."""
    text = md.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    front = text[4:].split("\n---\n", 1)[0]
    return "\nkernelspec:" in "\n" + front


def refresh(md: Path) -> None:
    nb = jupytext.read(md)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   record_timing=False,
                   resources={"metadata": {"path": str(md.parent)}}
                   ).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    for index, cell in enumerate(nb.cells):
        # ids from the content, not random: a refresh changes nothing
        # unless the notebook changed
        key = f"{index}\n{cell.cell_type}\n{cell.source}".encode()
        cell.id = hashlib.sha1(key).hexdigest()[:8]
    target = md.with_suffix(".ipynb")
    jupytext.write(nb, target, fmt="ipynb")
    nbformat.validate(nbformat.read(target, as_version=4))
    print(f"executed {md} -> {target}")


def coalesce_streams(outputs):
    """Merge consecutive stdout (or stderr) outputs into one: how a
    kernel splits a cell's printing depends on timing, not on the code."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


def main(argv):
    if len(argv) < 2 or argv[0] != "refresh":
        sys.exit(__doc__)
    for md in myst_notebooks(argv[1:]):
        refresh(md)


if __name__ == "__main__":
    main(sys.argv[1:])
