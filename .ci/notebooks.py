"""Re-execute every paired notebook from its MyST source (authors' tool).

    python .ci/notebooks.py refresh book solutions exercises

For each MyST notebook ``X.md`` (a ``.md`` with a ``kernelspec``), the
paired ``X.ipynb`` is rewritten from the ``.md`` and executed in its own
folder. Run it through ``make notebooks``, which fixes one BLAS thread and
the NumPy backend, so the stored outputs do not depend on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient


def myst_notebooks(folders):
    """The ``.md`` files of ``folders`` that are jupytext notebooks."""
    for folder in folders:
        for md in sorted(Path(folder).glob("**/*.md")):
            if "_build" in md.parts:
                continue
            if "kernelspec" in jupytext.read(md).metadata:
                yield md


def refresh(md: Path) -> None:
    nb = jupytext.read(md)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   record_timing=False,
                   resources={"metadata": {"path": str(md.parent)}}
                   ).execute()
    nb.metadata.pop("widgets", None)
    target = md.with_suffix(".ipynb")
    jupytext.write(nb, target, fmt="ipynb")
    nbformat.validate(nbformat.read(target, as_version=4))
    print(f"executed {md} -> {target}")


def main(argv):
    if len(argv) < 2 or argv[0] != "refresh":
        sys.exit(__doc__)
    for md in myst_notebooks(argv[1:]):
        refresh(md)


if __name__ == "__main__":
    main(sys.argv[1:])
