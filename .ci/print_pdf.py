"""Print a page of the built book to PDF (headless Chromium, offline).

    python .ci/print_pdf.py book/_build/singlehtml/intro.html out.pdf

The page is loaded from disk with every request to the network refused,
MathJax (served from the book) is awaited, every solution dropdown is
opened so that the PDF holds the solutions too, code wraps (the book's
print style) and an equation or table wider than the paper is shrunk to
fit, and Chromium prints it (A4, with page numbers). Chromium: as in
.ci/check_book.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_book import FLAGS, find_chromium  # noqa: E402


def main(source: str, target: str) -> int:
    chromium = find_chromium()
    if chromium is None:
        print("print_pdf: no Chromium (Debian: apt-get install chromium)",
              file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    url = Path(source).resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=FLAGS)
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(url, wait_until="load", timeout=120_000)
        page.evaluate("async () => { if (window.MathJax && MathJax.startup"
                      " && MathJax.startup.promise)"
                      " await MathJax.startup.promise; }")
        unrendered = page.evaluate(
            "() => Array.from(document.querySelectorAll('.math'))"
            ".filter(e => !e.querySelector('mjx-container')).length")
        if unrendered:
            print(f"print_pdf: {unrendered} formulas not rendered",
                  file=sys.stderr)
            return 1
        page.evaluate("() => document.querySelectorAll('.toggle-hidden')"
                      ".forEach(e => e.classList.remove('toggle-hidden'))")
        # lay the page out at the paper's text width (A4 less the
        # margins: 186 mm, 703 px) and shrink what is still wider
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 703, "height": 1000})
        shrunk = page.evaluate("""() => {
          let n = 0;
          for (const el of document.querySelectorAll(
              'mjx-container[display="true"], table')) {
            const ratio = el.clientWidth / el.scrollWidth;
            if (el.clientWidth > 0 && ratio < 0.99) {
              el.style.zoom = ratio.toFixed(3); n++;
            }
          }
          return n; }""")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=target, format="A4", print_background=True,
                 display_header_footer=True,
                 header_template="<span></span>",
                 footer_template='<div style="font-size:8px;width:100%;'
                 'text-align:center"><span class="pageNumber"></span> / '
                 '<span class="totalPages"></span></div>',
                 margin={"top": "15mm", "bottom": "15mm", "left": "12mm",
                         "right": "12mm"})
        browser.close()
    size = Path(target).stat().st_size
    print(f"print_pdf: wrote {target} ({size / 1e6:.1f} MB, {shrunk} "
          f"equations or tables shrunk to the page) in "
          f"{time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
