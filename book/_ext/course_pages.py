"""What the book adds to its pages (a local Sphinx extension, `_config.yml`).

- **Downloads.** Every chapter page offers its paired `.ipynb` (the stored,
  nbval-checked notebook beside the `.md`) in the theme's download menu;
  every exercise page offers the *student* notebook of `exercises/` (not the
  solved one of `solutions/`). The build also writes one archive of all the
  exercise notebooks, with a short "how to run these" file and a wheel of
  the companion package, at the root of the HTML: ``EXERCISES_ZIP``.
- **Repository links from one setting.** When `repository: url:` is set in
  `_config.yml`, the repository, issue and edit buttons appear; when it is
  empty, none of them does (no dead link to a placeholder).
- **Author-year bibliography.** A pybtex style ``authoryear`` whose labels
  read as the citations in the text do ("Cho et al., 2014"), sorted by
  author, year and title, with a, b suffixes where two labels coincide.
- **Titles.** The landing page's browser title is the book's title once,
  not "title - title".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

from pybtex.plugin import register_plugin
from sphinx.util import logging
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

LOGGER = logging.getLogger(__name__)
EXERCISES_ZIP = "rnn-from-scratch-exercises.zip"
HOW_TO = """\
Exercises of "Recurrent Neural Networks from Scratch"
=====================================================

One Jupyter notebook per chapter (00-foundations.ipynb ... 08-applications.ipynb).
Complete each function where it raises NotImplementedError, then run the check
cell after it: it prints "passed" or what differs, case by case.

The notebooks import the course's companion package, `companion`. Install it,
with JupyterLab, into a virtual environment (Python 3.10 or later):

    python3 -m venv .venv
    .venv/bin/python -m pip install {wheel} jupyterlab
    .venv/bin/jupyter lab

(on Windows: .venv\\Scripts\\python and .venv\\Scripts\\jupyter-lab). Then open
a notebook in JupyterLab's file browser and run it from the top.

From a clone of the course's repository{repository} it is one command
instead, which installs everything and opens JupyterLab on exercises/:

    make lab

Nothing needs the network once the packages are installed. The solved
notebooks are in the repository's solutions/ folder and, in closed dropdowns,
in the book's exercise pages.
"""


# --- bibliography -----------------------------------------------------------

def _last(person) -> str:
    """A person's printed last name ("van Merriënboer"), without braces."""
    parts = person.prelast_names + person.last_names
    return " ".join(parts).replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    """"Elman, 1990", "Hochreiter and Schmidhuber, 1997", "Cho et al., 2014"."""

    def format_labels(self, sorted_entries):
        labels = [self._label(entry) for entry in sorted_entries]
        repeated = {k for k, n in Counter(labels).items() if n > 1}
        seen: Counter = Counter()
        for label in labels:
            if label in repeated:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label

    @staticmethod
    def _label(entry) -> str:
        people = (entry.persons.get("author")
                  or entry.persons.get("editor") or [])
        names = [_last(p) for p in people]
        if not names:
            who = entry.fields.get("organization", entry.key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


# --- repository links -------------------------------------------------------

def _repository_buttons(app, config):
    """Repository, issue and edit buttons iff the repository URL is set."""
    options = config.html_theme_options
    wanted = bool((options.get("repository_url") or "").strip())
    for key in ("use_repository_button", "use_issues_button",
                "use_edit_page_button"):
        options[key] = wanted
    if wanted:
        options.setdefault("path_to_docs", "book")
        options.setdefault("repository_branch", "main")


# --- downloads --------------------------------------------------------------

def _root(app) -> Path:
    return Path(app.srcdir).resolve().parent


def _notebook_of(app, pagename: str) -> Path | None:
    """The notebook a reader downloads for a page, if it has one."""
    if pagename.startswith("exercises/"):
        student = _root(app) / f"{pagename}.ipynb"  # exercises/XX.ipynb
        return student if student.is_file() else None
    paired = Path(app.srcdir) / f"{pagename}.ipynb"
    return paired if paired.is_file() else None


def _page_context(app, pagename, templatename, context, doctree):
    """The notebook in the download menu; one title on the landing page."""
    if app.builder.format != "html":
        return
    notebook = _notebook_of(app, pagename)
    if notebook is not None:
        target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)
        context["ipynb_source"] = f"{pagename}.ipynb"
    if pagename == app.config.master_doc:  # set by sphinx-external-toc
        # the browser title is "<page> - <book>": the landing page's title
        # is the book's, so once is enough (the logo's alt text is set in
        # the theme options, not taken from docstitle)
        context["docstitle"] = ""


def _wheel(root: Path, into: Path) -> Path | None:
    """A wheel of the companion package, built offline (with the running
    environment's setuptools); None, with a warning, if that fails."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).exists():
                shutil.copy2(root / name, src / name)
        shutil.copytree(root / "companion", src / "companion",
                        ignore=shutil.ignore_patterns("__pycache__"))
        done = subprocess.run(
            [sys.executable, "-c", "import sys, setuptools.build_meta as b;"
             " print(b.build_wheel(sys.argv[1]))", str(into)],
            cwd=src, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": ""})
        if done.returncode != 0:
            LOGGER.warning("the exercise archive has no wheel: building it "
                           "failed (setuptools >= 77 needed, the test "
                           "extra):\n%s", done.stderr[-2000:])
            return None
        return into / done.stdout.strip().splitlines()[-1]


def _exercise_archive(app, exception):
    """EXERCISES_ZIP: the student notebooks, how to run them, the wheel."""
    if exception is not None or app.builder.name != "html":
        return
    root = _root(app)
    notebooks = sorted((root / "exercises").glob("*.ipynb"))
    repository = (app.config.html_theme_options.get("repository_url")
                  or "").strip()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _wheel(root, Path(tmp))
        text = HOW_TO.format(
            wheel=wheel.name if wheel else f"{root.name}/  # the repository",
            repository=f" ({repository})" if repository else "")
        folder = "rnn-from-scratch-exercises"
        with zipfile.ZipFile(Path(app.outdir) / EXERCISES_ZIP, "w",
                             zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{folder}/HOW-TO-RUN.txt", text)
            for notebook in notebooks:
                archive.write(notebook, f"{folder}/{notebook.name}")
            if wheel:
                archive.write(wheel, f"{folder}/{wheel.name}")


def _singlehtml_nodes(app):
    """The single-page build (`make pdf`) draws every node the HTML build
    does: myst-nb's hidden cells and sphinx-proof's algorithms register
    their HTML visitors for the `html` builder only."""
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app):
    app.connect("builder-inited", _singlehtml_nodes)
    app.connect("config-inited", _repository_buttons)
    app.connect("html-page-context", _page_context, priority=400)
    app.connect("build-finished", _exercise_archive)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
