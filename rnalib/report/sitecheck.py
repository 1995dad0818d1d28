"""The report site checked in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright)
opens every page of a report folder at 1280 px and looks for what a reader would notice.

Per page (every ``*.html`` at the top of the folder, served over a local HTTP server): it loads (HTTP 200, no
navigation error); every ``a[href]`` resolves (an internal link to an existing file inside the folder, its
``#anchor`` to an element of the target page; external http(s) links are listed, never fetched); every
``<img>`` (data: URIs included) is decoded (``complete`` and ``naturalWidth > 0``); no JavaScript error; no
visible traceback, error or stderr output; nothing wider than the window (the widest element is named); the
code toggle of the navigation bar hides code by default and shows it when clicked. A full-page screenshot of
each page goes to ``<report>/screenshots/<page>.png``. Nothing leaves the machine: requests to any other host
are aborted and listed.

``python -m rnalib check-site REPORT`` (``make check-site``) prints one line per problem, naming the page.
"""
from __future__ import annotations

import functools
import html.parser
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

CHROMIUM_ENV = "RNALIB_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 900
# Known to work as root in containers; without the background-networking flags Chromium keeps trying the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ERROR_TEXTS = ("Traceback (most recent call last)", "An Exception was encountered at")
ERROR_SELECTOR = ('[data-mime-type="application/vnd.jupyter.stderr"], .output_error, .output_stderr, '
                  '.jp-mod-error')
CODE_SELECTOR = ".jp-CodeCell .jp-Cell-inputWrapper"
TOGGLE_SELECTOR = ".rnalib-nav button"
TIMEOUT_MS = 60_000


class SiteCheckError(RuntimeError):
    """The site has problems (one line each, naming the page), or the browser cannot be started."""


@dataclass
class PageResult:
    """One page: its problems (empty when clean), the external links and blocked requests it holds (listed, not
    fetched) and its screenshot."""

    page: str
    problems: list[str] = field(default_factory=list)
    external_links: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    screenshot: str | None = None


@dataclass
class SiteResult:
    """Every page of a report folder, in name order."""

    root: Path
    pages: list[PageResult]

    @property
    def problems(self) -> list[str]:
        """One line per problem: ``<page>: <problem>``."""
        return [f"{p.page}: {problem}" for p in self.pages for problem in p.problems]

    @property
    def ok(self) -> bool:
        return not self.problems


# What the browser reports about a loaded page (one evaluation, plain JSON back).
FACTS_JS = """([errorSelector, errorTexts]) => {
  const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const text = document.body ? document.body.innerText : '';
  const doc = document.documentElement;
  const facts = {
    links: Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href')),
    ids: Array.from(document.querySelectorAll('[id]'), e => e.id)
      .concat(Array.from(document.querySelectorAll('a[name]'), a => a.getAttribute('name'))),
    images: Array.from(document.images, (img, i) => ({index: i + 1, src: img.getAttribute('src') || '',
      complete: img.complete, width: img.naturalWidth})),
    errorTexts: errorTexts.filter(t => text.includes(t)),
    errorOutputs: Array.from(document.querySelectorAll(errorSelector)).filter(visible)
      .map(e => (e.innerText || '').trim().split('\\n').find(l => l.trim()) || describe(e)),
    scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, widest: null,
  };
  if (doc.scrollWidth > doc.clientWidth) {
    const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };
    let best = null;
    for (const e of document.body.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.right > doc.clientWidth && (!best || r.right > best.right) && !clipped(e))
        best = {element: describe(e), right: Math.round(r.right), width: Math.round(r.width)};
    }
    facts.widest = best;
  }
  return facts;
}"""

TOGGLE_JS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter(e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)).length"""


def find_chromium() -> str | None:
    """The Chromium binary: ``$RNALIB_CHROMIUM``, else ``/usr/bin/chromium``, else ``chromium`` on the PATH."""
    candidate = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # a tab closed mid-response: not a problem
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free local port for the duration; yields the base URL (ending in ``/``)."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Ids(html.parser.HTMLParser):
    """Element ids (and ``<a name>``) of an HTML file, for anchors into pages the browser did not open."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


def file_ids(path: Path) -> set[str]:
    """Ids of an HTML file on disk."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.ids


def meta_refresh(path: Path) -> str | None:
    """The target of a ``<meta http-equiv="refresh">`` redirect page (like the site's index.html), else None."""
    text = path.read_text(encoding="utf-8", errors="replace")[:4000]
    tag = re.search(r"<meta[^>]+http-equiv=[\"']?refresh[^>]*>", text, re.I)
    target = re.search(r"url=([^\"'>\s]+)", tag.group(0), re.I) if tag else None
    return target.group(1) if target else None


def link_problem(href: str, page: str, root: Path, ids: dict[str, set[str]]) -> str | None:
    """Why an internal link of ``page`` (a path relative to ``root``) does not resolve, or None when it does.
    ``ids`` holds the anchors of pages already opened; others are read from disk."""
    parts = urlsplit(href)
    target = page if not parts.path else os.path.normpath(os.path.join(os.path.dirname(page), unquote(parts.path)))
    if target.startswith("..") or os.path.isabs(target):
        return f"link {href!r} points outside the report folder"
    path = root / target
    if path.is_dir():
        target, path = f"{target}/index.html", path / "index.html"
    if not path.is_file():
        return f"broken link {href!r}: {target} does not exist"
    if parts.fragment and path.suffix in (".html", ".htm"):
        anchors = ids.get(target)
        if anchors is None:
            anchors = ids[target] = file_ids(path)
        if not {parts.fragment, unquote(parts.fragment)} & anchors:  # browsers try the fragment as is, then decoded
            return f"broken link {href!r}: no element with id {unquote(parts.fragment)!r} in {target}"
    return None


def classify_links(links: list[str]) -> tuple[list[str], list[str]]:
    """(internal, external) hrefs; external = http(s) and other schemes, listed but never fetched."""
    internal, external = [], []
    for href in dict.fromkeys(links):
        scheme = urlsplit(href).scheme.lower()
        if scheme in ("", "file") and not href.startswith("//"):
            if href.strip("#"):
                internal.append(href)
        else:
            external.append(href)
    return internal, external


def page_problems(facts: dict[str, Any]) -> list[str]:
    """Problems visible in a page's facts (images, error output, horizontal overflow); links are checked apart."""
    problems = []
    for img in facts["images"]:
        if not img["complete"] or img["width"] <= 0:
            src = img["src"].split(",", 1)[0] if img["src"].startswith("data:") else img["src"]
            problems.append(f"image {img['index']} ({src or 'no src'}) does not render")
    problems += [f"shows an error: {text!r}" for text in facts["errorTexts"]]
    problems += [f"shows error/stderr output: {line[:120]!r}" for line in facts["errorOutputs"]]
    if facts["scrollWidth"] > facts["clientWidth"]:
        widest = facts["widest"]
        culprit = (f"; widest: {widest['element']} ({widest['width']} px wide, right edge at {widest['right']} px)"
                   if widest else "")
        problems.append(f"overflows horizontally: {facts['scrollWidth']} px wide in a {facts['clientWidth']} px "
                        f"window{culprit}")
    return problems


def toggle_problem(page: Any) -> str | None:
    """The navigation bar's code button: code hidden at first, shown after a click (hidden again after a second)."""
    if not page.query_selector(TOGGLE_SELECTOR) or not page.query_selector(CODE_SELECTOR):
        return None
    if page.evaluate(TOGGLE_JS, CODE_SELECTOR):
        return "code is visible before the code button is clicked"
    page.click(TOGGLE_SELECTOR)
    shown = page.evaluate(TOGGLE_JS, CODE_SELECTOR)
    page.click(TOGGLE_SELECTOR)
    return None if shown else "the code button does not show the code"


def screenshot_name(page: str) -> str:
    """``00_summary.html`` → ``00_summary.png``."""
    return Path(page).with_suffix(".png").as_posix().replace("/", "__")


def check_page(browser_page: Any, base: str, root: Path, page: str, shots: Path | None,
               ids: dict[str, set[str]]) -> tuple[PageResult, list[str]]:
    """Open one page and check everything but its links; returns the result and its internal links."""
    result = PageResult(page)
    errors: list[str] = []
    failed: list[str] = []
    browser_page.on("pageerror", lambda exc: errors.append(str(exc).splitlines()[0] if str(exc) else "error"))
    browser_page.on("response", lambda r: failed.append(f"{r.url[len(base):]} (HTTP {r.status})")
                    if r.url.startswith(base) and r.status >= 400 and r.request.resource_type != "image"
                    and not r.url.endswith("/favicon.ico") else None)
    browser_page.on("requestfailed", lambda r: failed.append(f"{r.url[len(base):]} ({r.failure})")
                    if r.url.startswith(base) and r.resource_type != "image" else None)
    redirect = meta_refresh(root / page)
    links: list[str] = []
    try:
        response = browser_page.goto(base + page, wait_until="load", timeout=TIMEOUT_MS)
        if response is None or response.status != 200:
            result.problems.append(f"does not load (HTTP {response.status if response else 'no response'})")
            return result, links
        if redirect:  # checked as a link; the browser should land on the target
            links = [redirect]
            target = os.path.normpath(os.path.join(os.path.dirname(page), redirect))
            if (root / target).is_file():
                browser_page.wait_for_url(base + target, timeout=TIMEOUT_MS)
                browser_page.wait_for_load_state("load")
        else:
            facts = browser_page.evaluate(FACTS_JS, [ERROR_SELECTOR, list(ERROR_TEXTS)])
            ids[page] = set(facts["ids"])
            result.problems += page_problems(facts)
            links, result.external_links = classify_links(facts["links"])
        if shots is not None:
            result.screenshot = str(shots / screenshot_name(page))
            browser_page.screenshot(path=result.screenshot, full_page=True, timeout=TIMEOUT_MS)
        toggle = None if redirect else toggle_problem(browser_page)
        result.problems += [toggle] if toggle else []
    except Exception as exc:  # Playwright's errors: navigation, timeouts, a crashed tab
        result.problems.append(f"could not be checked: {str(exc).splitlines()[0]}")
    finally:
        result.problems += [f"JavaScript error: {e}" for e in errors]
        result.problems += [f"resource failed: {f}" for f in dict.fromkeys(failed)]
    return result, links


def site_pages(root: Path) -> list[str]:
    """The site's pages: every ``*.html`` at the top of the report folder, in name order."""
    return sorted(p.name for p in root.glob("*.html"))


def check_site(root: str | Path, screenshots: bool = True, width: int = WIDTH,
               chromium: str | None = None) -> SiteResult:
    """Open every page of the report folder ``root`` in headless Chromium and check it (module docstring);
    screenshots go to ``<root>/screenshots/``. Raises ``SiteCheckError`` when there is nothing to check or no
    browser; problems are returned, see ``SiteResult.problems`` (or use ``assert_site``)."""
    from playwright.sync_api import sync_playwright

    root = Path(root).resolve()
    names = site_pages(root) if root.is_dir() else []
    if not names:
        raise SiteCheckError(f"{root}: no *.html pages to check")
    executable = chromium or find_chromium()
    if not executable:
        raise SiteCheckError(f"Chromium not found at {DEFAULT_CHROMIUM} (apt-get install chromium, "
                             f"or set {CHROMIUM_ENV})")
    shots = root / "screenshots" if screenshots else None
    if shots is not None:
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir()
    results: list[PageResult] = []
    ids: dict[str, set[str]] = {}
    pending: list[tuple[PageResult, list[str]]] = []
    with serve(root) as base, sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="rnalib-chromium-") as prof:
        try:
            context = pw.chromium.launch_persistent_context(
                prof, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": width, "height": HEIGHT}, service_workers="block")
        except Exception as exc:  # Playwright's error names the binary and what went wrong
            raise SiteCheckError(f"cannot start Chromium ({executable}): {str(exc).splitlines()[0]}") from None
        blocked: list[str] = []
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      else (blocked.append(route.request.url), route.abort()))
        try:
            for name in names:
                blocked.clear()
                tab = context.new_page()
                result, links = check_page(tab, base, root, name, shots, ids)
                result.blocked_requests = list(dict.fromkeys(blocked))
                tab.close()
                results.append(result)
                pending.append((result, links))
        finally:
            context.close()
    for result, links in pending:
        result.problems += [p for href in links if (p := link_problem(href, result.page, root, ids))]
    return SiteResult(root, results)


def assert_site(root: str | Path, **kwargs: Any) -> SiteResult:
    """``check_site``, raising ``SiteCheckError`` with one line per problem (naming the page) when there are any."""
    result = check_site(root, **kwargs)
    if not result.ok:
        raise SiteCheckError("\n".join(result.problems))
    return result
