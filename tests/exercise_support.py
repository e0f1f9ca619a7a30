"""Shared by the exercise tests: the solved functions of a notebook."""

import re
from pathlib import Path

import jupytext


def solved_functions(md: Path) -> dict[str, object]:
    """The functions of a solution notebook, by the id their check names.

    Every code cell is run except the check cells ``check("C.k", fn)``,
    which name the function that solves exercise C.k.
    """
    namespace: dict[str, object] = {}
    calls = {}
    for cell in jupytext.read(md).cells:
        if cell.cell_type != "code":
            continue
        found = re.fullmatch(r'check\("([\d.]+)", (\w+)\)', cell.source)
        if found:
            calls[found.group(1)] = found.group(2)
        else:
            exec(cell.source, namespace)
    return {ex: namespace[name] for ex, name in calls.items()}
