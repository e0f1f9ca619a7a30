"""Check that the built book renders its math offline (headless Chromium).

    python .ci/check_math.py book/_build/html

Every HTML page that holds math is loaded from disk by headless Chromium
with networking disabled; the page passes when MathJax (served from the
book's own _static/mathjax) turned every formula into an <mjx-container>
and reported no <mjx-merror>. Needs Debian's chromium package; authors run
it with `make check-math`. `make test` runs the fuller browser checks of
.ci/check_book.py (math among them) in CI, which installs chromium.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=8000", "--dump-dom"]


def rendered(page: Path) -> tuple[int, int, int]:
    """(formulas in the source, rendered containers, MathJax errors)."""
    source = page.read_text(encoding="utf-8")
    formulas = len(re.findall(r'class="math[ "]', source))
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            ["chromium", *FLAGS, f"--user-data-dir={profile}",
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120).stdout
    return (formulas, dom.count("<mjx-container"),
            dom.count("<mjx-merror"))


def main(root: str) -> int:
    failures = 0
    for page in sorted(Path(root).glob("**/*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        formulas, containers, errors = rendered(page)
        if formulas == 0:
            continue
        ok = containers >= formulas and errors == 0
        failures += not ok
        name = page.relative_to(root)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {formulas} formulas, "
              f"{containers} rendered, {errors} MathJax errors")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "book/_build/html"))
