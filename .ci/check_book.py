"""Browser checks of the built book (headless Chromium, network off).

    python .ci/check_book.py [book/_build/html]

Every HTML page of the built book is served from 127.0.0.1 and loaded in
headless Chromium at 1280 x 900 px, then as on a phone (390 x 844 px, a
mobile viewport); any request to another host is refused, so the book is
checked as a reader without a network sees it. Each page must show:

- its math rendered: every ``.math`` element holds a MathJax container
  and no ``mjx-merror`` (MathJax is served from the book itself);
- no horizontal overflow: the page does not scroll sideways, and no
  equation, table, code block, output, figure or exercise box reaches past
  the text column unless a box of its own scrolls it;
- on the phone, no page-level horizontal overflow either: code, outputs,
  tables and equations may scroll inside their own box, the page may not
  (each element that pushes it wider is named);
- no split outputs: no two consecutive stream boxes of the same stream in
  one cell's output (a table printed in a loop is one box);
- every image in the text with real alt text (not empty, not a hash or a
  file name: the figure cell's ``mystnb.image.alt``);
- every asset it loads answered (no 404, no request that needed the
  network), every local link and download link pointing to a file, the
  favicon declared and present, one search field;
- on a chapter page, the chapter's notebook in the download menu; on an
  exercise page, the student notebook (the bytes of exercises/XX.ipynb,
  not the solved one) and the archive of every exercise notebook, and each
  solution closed until its button is clicked, open after.

The landing page's title must not repeat the book's title, and the
bibliography's labels must read "Author, year". Each failure is printed
with its page and element; the exit status is 1 if there is any.

Chromium: ``$CHROMIUM`` or the first of chromium, chromium-browser,
google-chrome on the PATH (Debian: ``apt-get install chromium``), driven
by Playwright (its own browser download is not used). Without a browser
the script says so and exits 0, or 1 when ``BROWSER_REQUIRED=1`` (CI).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 900
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
ZIP = "rnn-from-scratch-exercises.zip"
# an alt text that is a hash or a file name (myst-nb's default)
FILE_LIKE = re.compile(r"^[0-9a-f]{16,}|\.(png|svg|jpe?g|gif|pdf)$",
                       re.IGNORECASE)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]

# how a failure names an element: tag, id, classes and its first words
NAME_JS = r"""
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    const cls = (el.getAttribute("class") || "").trim().split(/\s+/)
      .filter(Boolean).slice(0, 3);
    if (cls.length) s += "." + cls.join(".");
    const text = (el.textContent || "").replace(/\s+/g, " ").trim();
    return s + (text ? ` "${text.slice(0, 60)}"` : "");
  };
"""

# the geometry and structure checks, run in the page
PAGE_JS = "() => {" + NAME_JS + r"""
  const out = {overflow: [], math: [], split: [], links: [], icons: [],
               search: 0, title: document.title};
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1)
    out.overflow.push(`the page scrolls sideways: ${doc.scrollWidth} px ` +
                      `wide in a ${doc.clientWidth} px window`);
  const article = document.querySelector("article.bd-article")
    || document.querySelector("main") || document.body;
  const limit = article.getBoundingClientRect().right + 1;
  // every element of the text column: the outermost ones that reach past
  // it with no box of their own (inside the column) scrolling them
  const past = new Set();
  for (const el of article.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= limit) continue;
    let a = el.parentElement, scrolled = false;
    while (a && a !== article) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== "visible" && a.getBoundingClientRect().right <= limit) {
        scrolled = true; break;
      }
      a = a.parentElement;
    }
    if (scrolled) continue;
    past.add(el);
    if (!past.has(el.parentElement))
      out.overflow.push(`${name(el)} reaches ${Math.round(r.right - limit)}` +
                        " px past the text column");
  }
  out.images = Array.from(article.querySelectorAll("img")).map(
    (el) => [el.getAttribute("src") || "", el.getAttribute("alt")]);
  out.scrolling = [];
  for (const el of article.querySelectorAll(
      'mjx-container[display="true"], table, div.highlight pre'))
    if (el.scrollWidth > el.clientWidth + 1)
      out.scrolling.push(`${name(el)} scrolls ` +
                         `${el.scrollWidth - el.clientWidth} px`);
  for (const el of document.querySelectorAll(".math")) {
    if (!el.querySelector("mjx-container") && el.tagName !== "MJX-CONTAINER")
      out.math.push(`not rendered: ${name(el)}`);
  }
  for (const el of document.querySelectorAll("mjx-merror"))
    out.math.push(`MathJax error: ${name(el)}`);
  for (const cell of document.querySelectorAll("div.cell_output")) {
    const kids = Array.from(cell.children);
    for (let i = 0; i + 1 < kids.length; i++) {
      const kind = (el) => el.classList.contains("stderr") ? "stderr" :
        el.classList.contains("stream") ? "stdout" : null;
      const k = kind(kids[i]);
      if (k && k === kind(kids[i + 1]))
        out.split.push(`${k} in two boxes: ${name(kids[i])} then ` +
                       name(kids[i + 1]));
    }
  }
  for (const el of document.querySelectorAll("a[href]"))
    out.links.push([el.href, name(el)]);
  for (const el of document.querySelectorAll("link[rel~=icon]"))
    out.icons.push(el.href);
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 &&
      getComputedStyle(el).visibility !== "hidden";
  };
  out.search = Array.from(document.querySelectorAll(
    ".search-button-field, .search-button, form.bd-search"))
    .filter(visible).length;
  out.solutions = Array.from(document.querySelectorAll("div.solution"))
    .map((el) => {
      const body = el.querySelector("section, .admonition-title ~ *");
      return [el.id, body ? visible(body) : null];
    });
  return out;
}
"""


# on the phone: does the page scroll sideways, and which elements (the
# outermost ones, not inside a box that scrolls or clips them within the
# window) push it wider? MathJax's hidden copy for screen readers and
# fixed drawers (the closed sidebars) are not part of the page's width.
PHONE_JS = "() => {" + NAME_JS + r"""
  const doc = document.documentElement, width = doc.clientWidth;
  if (doc.scrollWidth <= width + 1) return [];
  const out = [`the page scrolls sideways: ${doc.scrollWidth} px wide ` +
               `in a ${width} px window`];
  const past = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1 ||
        el.closest("mjx-assistive-mml")) continue;
    let a = el, inside = false;
    while (a && a !== document.body) {
      const style = getComputedStyle(a);
      if (style.position === "fixed") { inside = true; break; }
      if (a !== el && style.overflowX !== "visible" &&
          a.getBoundingClientRect().right <= width + 1) {
        inside = true; break;
      }
      a = a.parentElement;
    }
    if (inside) continue;
    past.add(el);
    if (!past.has(el.parentElement))
      out.push(`${name(el)} reaches ${Math.round(r.right - width)} px ` +
               "past the window");
  }
  return out;
}
"""


def find_chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Server:
    """The built book on 127.0.0.1, in a thread."""

    def __init__(self, root: Path):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class Checker:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.failures: list[str] = []
        self.notes: list[str] = []  # boxes that scroll: allowed, listed
        self.checked_links: dict[str, str | None] = {}

    def fail(self, page: str, message: str) -> None:
        self.failures.append(f"FAIL {page}: {message}")
        print(self.failures[-1], flush=True)

    # --- files behind URLs --------------------------------------------------

    def local_file(self, url: str, base: str) -> Path | None:
        """The file a same-origin URL names (None: another origin)."""
        if not url.startswith(base):
            return None
        path = unquote(urlsplit(url).path)[len(urlsplit(base).path):]
        target = self.root / path
        if target.is_dir():
            target = target / "index.html"
        return target

    def check_link(self, page: str, url: str, what: str, base: str) -> None:
        target = self.local_file(url, base)
        if target is None:
            return
        key = str(target)
        if key not in self.checked_links:
            problem = None
            if not target.is_file():
                problem = "points to no file"
            elif target.stat().st_size == 0:
                problem = "points to an empty file"
            elif target.suffix == ".ipynb":
                try:
                    notebook = json.loads(target.read_text(encoding="utf-8"))
                    assert notebook["nbformat"] == 4 and notebook["cells"]
                except Exception as err:  # noqa: BLE001 - reported
                    problem = f"is not a notebook ({err})"
            elif target.suffix == ".zip":
                try:
                    with zipfile.ZipFile(target) as archive:
                        bad = archive.testzip()
                    if bad:
                        problem = f"is a damaged archive ({bad})"
                except zipfile.BadZipFile as err:
                    problem = f"is not an archive ({err})"
            self.checked_links[key] = problem
        if self.checked_links[key]:
            self.fail(page, f"link {what} -> "
                      f"{target.relative_to(self.root)} "
                      f"{self.checked_links[key]}")

    # --- one page -----------------------------------------------------------

    def check_page(self, browser_page, base: str, name: str, events) -> None:
        events.clear()
        browser_page.goto(base + name, wait_until="load", timeout=60_000)
        # MathJax (loaded with the page) typesets once it has started
        browser_page.evaluate(
            "async () => { if (window.MathJax && MathJax.startup &&"
            " MathJax.startup.promise) await MathJax.startup.promise; }")
        found = browser_page.evaluate(PAGE_JS)
        for status, url in events:
            self.fail(name, f"asset {url} answered {status}")
        for message in found["overflow"]:
            self.fail(name, f"overflow at {WIDTH} px: {message}")
        self.notes += [f"{name}: {m}" for m in found["scrolling"]]
        for src, alt in found["images"]:
            if not alt or not alt.strip() or FILE_LIKE.search(alt.strip()):
                self.fail(name, f"image {src} has no real alt text "
                          f"({alt!r}): give its cell mystnb.image.alt")
        for message in found["math"][:5]:
            self.fail(name, f"math {message}")
        if len(found["math"]) > 5:
            self.fail(name, f"math: {len(found['math']) - 5} more")
        for message in found["split"]:
            self.fail(name, f"split output: {message}")
        for url, what in found["links"]:
            self.check_link(name, url.split("#")[0], what, base)
        if not found["icons"]:
            self.fail(name, "no favicon declared")
        for url in found["icons"]:
            self.check_link(name, url, "favicon", base)
        if name != "search.html" and found["search"] != 1:
            self.fail(name, f"{found['search']} search fields visible, "
                      "not one")
        self.check_downloads(name, found, base)
        if name.startswith("exercises/"):
            self.check_solutions(browser_page, name, found)

    def check_downloads(self, name: str, found: dict, base: str) -> None:
        stem = name[:-len(".html")]
        hrefs = [url.split("#")[0] for url, _ in found["links"]]
        notebooks = [u for u in hrefs if u.endswith(".ipynb")]
        paired = (ROOT / "book" / f"{stem}.ipynb")
        if name.startswith("exercises/"):
            student = (ROOT / f"{stem}.ipynb").read_bytes()
            offered = [self.local_file(u, base) for u in notebooks]
            good = [p for p in offered if p and p.is_file()
                    and p.read_bytes() == student]
            if len(good) < 2:
                self.fail(name, "the student notebook "
                          f"{stem}.ipynb is not offered both in the text "
                          f"and in the download menu ({len(good)} links "
                          "to it)")
            if not any(u.endswith("/" + ZIP) for u in hrefs):
                self.fail(name, f"no link to the archive {ZIP}")
        elif paired.is_file() and not any(
                u.endswith(f"_sources/{stem}.ipynb") for u in notebooks):
            self.fail(name, f"the download menu lacks {stem}.ipynb")

    def check_solutions(self, browser_page, name: str, found: dict) -> None:
        solutions = found["solutions"]
        if not solutions:
            self.fail(name, "no solution dropdown")
            return
        for ident, shown in solutions:
            if shown is not False:
                self.fail(name, f"solution {ident} is open before any click")
        ident = solutions[0][0]
        button = browser_page.locator(
            f'[id="{ident}"] button.toggle-button').first
        if button.count() == 0:
            self.fail(name, f"solution {ident} has no button to open it")
            return
        try:
            button.click(timeout=10_000)
        except Exception as err:  # noqa: BLE001 - reported
            self.fail(name, f"solution {ident}: its button cannot be "
                      f"clicked ({str(err).splitlines()[0]})")
            return
        browser_page.wait_for_timeout(400)
        body = browser_page.locator(f'[id="{ident}"] section').first
        if not body.is_visible():
            self.fail(name, f"solution {ident} stays closed when its button "
                      "is clicked")


def pages(root: Path) -> list[str]:
    skip = {"_static", "_sources", "_downloads", "_images"}
    found = sorted(p.relative_to(root).as_posix()
                   for p in root.glob("**/*.html")
                   if not skip & set(p.relative_to(root).parts))
    # index.html only redirects to the landing page
    return [name for name in found if name != "index.html"]


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ROOT / "book" / "_build" / "html")
    if not (root / "index.html").is_file():
        print(f"no built book in {root}: run `make book` first",
              file=sys.stderr)
        return 1
    chromium = find_chromium()
    if chromium is None:
        print("check_book: SKIPPED, no Chromium found (Debian: "
              "apt-get install chromium; or set CHROMIUM)", file=sys.stderr)
        return 1 if os.environ.get("BROWSER_REQUIRED") == "1" else 0
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    server = Server(root)
    checker = Checker(root)
    events: list[tuple[int | str, str]] = []
    names = pages(root)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=FLAGS)
        context = browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT})

        def offline(route):
            if route.request.url.startswith(server.base):
                route.continue_()
            else:
                events.append(("a request to the network",
                               route.request.url))
                route.abort()

        context.route("**/*", offline)
        page = context.new_page()
        page.on("response", lambda r: r.status >= 400
                and events.append((r.status, r.url)))
        # a request cut short by the next navigation (the favicon, often)
        # is not a missing file: those answer 404 above
        page.on("requestfailed", lambda r: r.url.startswith(server.base)
                and "ERR_ABORTED" not in (r.failure or "")
                and r.url not in {url for _, url in events}
                and events.append((f"nothing ({r.failure})", r.url)))
        for name in names:
            began = time.monotonic()
            checker.check_page(page, server.base, name, events)
            if os.environ.get("CHECK_BOOK_VERBOSE"):
                print(f"  {name}: {time.monotonic() - began:.1f} s",
                      flush=True)
        # the same pages on a phone: the page itself never scrolls sideways
        phone = browser.new_context(
            viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
            is_mobile=True, has_touch=True)
        phone.route("**/*", lambda route: route.continue_()
                    if route.request.url.startswith(server.base)
                    else route.abort())
        small = phone.new_page()
        for name in names:
            small.goto(server.base + name, wait_until="load",
                       timeout=60_000)
            small.evaluate(
                "async () => { if (window.MathJax && MathJax.startup &&"
                " MathJax.startup.promise) await MathJax.startup.promise; }")
            for message in small.evaluate(PHONE_JS)[:10]:
                checker.fail(name, f"overflow at {PHONE_WIDTH} px: {message}")
        browser.close()

    landing = (root / "intro.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", landing, re.S).group(1)
    if title.count("Recurrent Neural Networks from Scratch") != 1:
        checker.fail("intro.html", f"the title repeats itself: {title!r}")
    bibliography = (root / "bibliography.html").read_text(encoding="utf-8")
    for label in re.findall(r'<span class="label"><span class="fn-bracket">'
                            r'\[</span>(.*?)<span', bibliography):
        if not re.fullmatch(r"[^\W\d][^\\{}\[\]]*, (\d{4}[a-z]?|n\.d\.)",
                            label):
            checker.fail("bibliography.html", f"label {label!r} is not "
                         "'Author, year'")
    if os.environ.get("CHECK_BOOK_VERBOSE"):
        print("\n".join(["boxes that scroll sideways in their own box at "
                         f"{WIDTH} px:"] + checker.notes))
    print(f"check_book: {len(names)} pages, {len(checker.checked_links)} "
          f"files behind links, {len(checker.notes)} boxes that scroll in "
          f"their own box, {len(checker.failures)} failures, "
          f"{time.monotonic() - start:.0f} s")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
