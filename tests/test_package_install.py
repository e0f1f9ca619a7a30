"""A normal (non-editable) install carries the whole package.

`make` installs the package editable, which imports from the source tree
and so hides a wheel or an sdist that leaves a subpackage out (the wheel
once shipped `companion` without `companion.data`). Here the sdist is
built from a copy of the sources, the wheel from that sdist (as pip does
for an sdist), and the wheel installed with pip, not editable, into a fresh
virtual environment; the chapters' imports and every data loader then run
in a Jupyter kernel of that environment, with the source tree nowhere on
its path.

Offline: the build uses the setuptools of the running environment (the
`test` extra asks for one that reads pyproject.toml), and the fresh
environment borrows the course's dependencies (NumPy, Matplotlib, the
kernel) from the running one through a .pth file, whose own .pth files,
the editable `companion` among them, Python does not process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST_NAME = "rnn-from-scratch-companion"
# the chapters whose opening cell imports from companion.data
CHAPTERS = ["03-bptt", "04-vanishing-exploding", "05-lstm", "06-gru",
            "07-esn", "08-applications"]
DATA_SMOKE = """\
from companion.data import grammar, mackey_glass, series, tasks, text
docs = text.python_docs(2_000)
vocab = text.CharVocab.from_text(docs)
assert len(text.lm_batches(vocab.encode(docs), vocab.V, 2, 10)) > 0
assert "Beautiful is better than ugly" in text.zen_of_python()
x, y, mask = tasks.adding_problem(6, 2, seed=0)
assert x.shape[:2] == (6, 2)
x, y, _ = tasks.copy_memory(5, 1, seed=0)
assert len(mackey_glass.mackey_glass(50)) == 50
stocks = series.load_stocks()
assert len(stocks.values) > 100
strings, labels = grammar.reber_classification(4, seed=0)[:2]
assert len(strings) == 4
import companion
print(companion.__file__)
"""


def _run(cmd, cwd, **kw):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env,
                          capture_output=True, text=True, **kw)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _sources() -> set[str]:
    """The package's modules in the source tree, as archive paths."""
    return {p.relative_to(ROOT).as_posix()
            for p in (ROOT / "companion").rglob("*.py")
            if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist, wheel) built offline from a copy of the sources."""
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    assert major >= 77, (
        f"setuptools {setuptools.__version__} cannot read pyproject.toml's "
        "license field: reinstall with `make install` (the test extra)")
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "companion", src / "companion",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    backend = ("import sys, setuptools.build_meta as b; "
               "print(getattr(b, sys.argv[1])(sys.argv[2]))")
    dist = tmp / "dist"
    sdist = dist / _run([sys.executable, "-c", backend, "build_sdist", dist],
                        cwd=src).strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp / "unpacked", **safe)
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = dist / _run([sys.executable, "-c", backend, "build_wheel", dist],
                        cwd=unpacked).strip().splitlines()[-1]
    return sdist, wheel


def test_distribution_name(built):
    sdist, wheel = built
    assert wheel.name.startswith(DIST_NAME.replace("-", "_") + "-"), wheel
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist()
                        if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert f"Name: {DIST_NAME}" in text
    assert re.search(r"^Requires-Dist: numpy", text, re.M), text[:2000]


def test_sdist_and_wheel_carry_every_module(built):
    sdist, wheel = built
    with tarfile.open(sdist) as archive:
        in_sdist = {n.split("/", 1)[1] for n in archive.getnames()
                    if "/" in n}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    for name, files in (("sdist", in_sdist), ("wheel", in_wheel)):
        missing = sorted(_sources() - files)
        assert not missing, f"the {name} lacks {missing}"


def test_wheel_installs_and_runs_the_chapters(built, tmp_path):
    _, wheel = built
    env_dir = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", env_dir],
         cwd=tmp_path)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt"
                        else "bin/python")
    _run([sys.executable, "-m", "pip", "--python", python, "install",
          "--quiet", "--no-deps", "--no-index", wheel], cwd=tmp_path)
    fresh_site = Path(_run([python, "-c", "import sysconfig; "
                            "print(sysconfig.get_paths()['purelib'])"],
                           cwd=tmp_path).strip())
    (fresh_site / "course_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")

    # the chapters' opening cells (their imports), then every data loader,
    # in a kernel of the fresh environment, run outside the source tree
    cells = []
    for chapter in CHAPTERS:
        text = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
        first = re.search(r"(?ms)^```\{code-cell\}[^\n]*\n(.*?)^```", text)
        cells.append(nbformat.v4.new_code_cell(first.group(1)))
    cells.append(nbformat.v4.new_code_cell(DATA_SMOKE))
    notebook = tmp_path / "smoke.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    runner = ("import sys, nbformat; from nbclient import NotebookClient; "
              "nb = nbformat.read(sys.argv[1], 4); "
              "NotebookClient(nb, timeout=120, kernel_name='python3', "
              "resources={'metadata': {'path': sys.argv[2]}}).execute(); "
              "print(nb.cells[-1].outputs[0]['text'])")
    work = tmp_path / "work"
    work.mkdir()
    out = _run([python, "-c", runner, notebook, work], cwd=work, timeout=300)
    where = Path(out.strip().splitlines()[-1]).resolve()
    assert where.is_relative_to(fresh_site.resolve()), (
        f"the kernel imported companion from {where}, not from the wheel")
