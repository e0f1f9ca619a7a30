"""Shared by the exercise tests: the solved functions of a notebook, and
the tests of each chapter's mutants."""

import re
from pathlib import Path

import jupytext
import pytest

from companion import checks


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


def mutant_tests(chapter: int, mutants: dict, says: dict):
    """The two tests of a chapter's mutants, for its test module to bind:
    every exercise of the chapter has at least four wrong answers, and
    ``checks.grade`` rejects each, its first failure message containing
    ``says[mutant name]`` where one is given. The scan for calls of the
    package's solution is off: some mutants are built on the reference,
    and what is tested here is that the cases catch them."""
    def test_every_exercise_has_mutants():
        assert set(mutants) == set(checks.chapter_ids(chapter))
        assert all(len(ms) >= 4 for ms in mutants.values())

    @pytest.mark.parametrize("ex, mutant", [
        (ex, m) for ex, ms in mutants.items() for m in ms],
        ids=lambda v: v if isinstance(v, str) else v.__name__)
    def test_mutants_are_rejected(ex, mutant):
        report = checks.grade(ex, mutant, scan_source=False)
        assert report.verdict == checks.FAILED, report.text()
        assert report.passed < len(report.cases)
        assert says.get(mutant.__name__, "") in report.message, \
            report.text()
        # the same words on every backend: no type names, no addresses
        assert "0x" not in report.text()
        assert "numpy" not in report.text(), report.text()

    return test_every_exercise_has_mutants, test_mutants_are_rejected
