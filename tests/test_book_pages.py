"""What book/_ext/course_pages.py adds to the book, without building it.

The bibliography's labels read as the text's citations ("Cho et al.,
2014"), one per work; the repository buttons follow the one setting
`repository: url:` of book/_config.yml; the exercise pages link the student
notebook and the archive. (The built book itself is checked in a browser
by .ci/check_book.py, `make test-browser`.)
"""

import importlib.util
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
pybtex = pytest.importorskip("pybtex")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages():
    pytest.importorskip("sphinx")
    return _load("course_pages", ROOT / "book" / "_ext" / "course_pages.py")


def test_bibliography_labels_are_author_year(pages):
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    entries = parse_file(str(ROOT / "book" / "references.bib"),
                         bib_format="bibtex").entries
    style = find_plugin("pybtex.style.formatting", "authoryear")()
    labels = [e.label for e in style.format_entries(entries.values())]
    assert len(labels) == len(set(labels)), "two works share a label"
    for label in labels:
        assert re.fullmatch(r"[^\W\d][^\\{}\[\]]*, (\d{4}[a-z]?|n\.d\.)",
                            label), label
    assert "Cho et al., 2014" in labels
    assert "Lukoševičius, 2012" in labels
    assert "Hochreiter and Schmidhuber, 1997" in labels


def test_bib_file_has_no_latex_accents():
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    assert not re.search(r"\\[\"'`^~=.cuvHkr]", text), (
        "write accents as UTF-8 letters: LaTeX escapes garble the labels")


@pytest.mark.parametrize("url, shown", [("", False),
                                        ("https://example.org/o/r", True)])
def test_repository_buttons_follow_the_one_setting(pages, url, shown):
    config = SimpleNamespace(html_theme_options={"repository_url": url})
    pages._repository_buttons(None, config)
    options = config.html_theme_options
    for key in ("use_repository_button", "use_issues_button",
                "use_edit_page_button"):
        assert options[key] is shown


def test_configured_repository_is_empty_or_an_address():
    config = (ROOT / "book" / "_config.yml").read_text(encoding="utf-8")
    url = re.search(r"(?m)^repository:\n  url: \"?([^\"\n]*)", config)
    assert url, "book/_config.yml sets repository: url:"
    assert url.group(1) == "" or url.group(1).startswith("https://")


def test_exercise_pages_link_the_student_notebook_and_the_archive(pages):
    tool = _load("make_exercises", ROOT / ".ci" / "make_exercises.py")
    assert tool.ARCHIVE == pages.EXERCISES_ZIP
    for page in sorted((ROOT / "book" / "exercises").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        student = f"exercises/{page.stem}.ipynb"
        assert (ROOT / student).is_file()
        assert f"{{download}}`the notebook <../../{student}>`" in text, page
        assert f'href="../{tool.ARCHIVE}"' in text, page
        assert "make lab" in text, page
