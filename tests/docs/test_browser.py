"""The built site, opened in headless Chromium with no internet: the home page's diagram
renders, and the search box finds a public name. Screenshots land in the build folder.

Needs the site built first (``hatch run docs:build``; CI builds it before the tests) and
Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.docs._chromium import Chromium, attributes, walk
from tests.docs._console import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

SITE = Path(os.environ.get("MINTAKA_SITE_DIR", REPO / "site"))
SCREENSHOTS = SITE / "_screenshots"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built in {SITE}: run `hatch run docs:build` first")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    chromium = Chromium(binary, tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def test_home_page_renders_its_diagram_offline(browser: Chromium, site_url: str) -> None:
    assert (SITE / "assets" / "vendor" / "mermaid.min.js").is_file()
    browser.open(site_url)
    # mkdocs-material swaps the diagram's <pre class="mermaid"> source for a
    # <div class="mermaid"> holding the SVG in a closed shadow root, once mermaid.js
    # loaded and rendered it; offline, without the vendored copy, the <pre> stays.
    browser.wait_for("document.querySelector('div.mermaid') !== null")
    assert browser.evaluate("document.querySelector('pre.mermaid')") is None
    (diagram,) = [
        node
        for node in walk(browser.document())
        if node.get("nodeName") == "DIV" and attributes(node).get("class") == "mermaid"
    ]
    svg = [node for node in walk(diagram) if node.get("nodeName", "").lower() == "svg"]
    assert svg, "the diagram's shadow root holds no <svg>"
    texts = " ".join(node.get("nodeValue", "") for node in walk(svg[0]))
    assert "http.response.start" in texts
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SCREENSHOTS / "home.png")
    assert (SCREENSHOTS / "home.png").stat().st_size > 10_000


def test_search_finds_response_scoped_dependency(browser: Chromium, site_url: str) -> None:
    # mkdocs-material opens the search with ?q= filled in; its web worker answers.
    browser.open(f"{site_url}?q=response_scoped_dependency")
    count = browser.wait_for("document.querySelectorAll('.md-search-result__item').length")
    assert count >= 1
    links = browser.evaluate(
        "[...document.querySelectorAll('.md-search-result__item a')].map(a => a.href)"
    )
    assert any(
        link.endswith("reference/depends/#mintaka.depends.response_scoped_dependency")
        for link in links
    ), links
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SCREENSHOTS / "search.png")
    assert (SCREENSHOTS / "search.png").stat().st_size > 10_000
