"""The built site, opened in headless Chromium with no internet, in a 1,280 px window.

The home page's diagram renders with readable text, the search box finds a public name,
every page reads without sideways scrolling, the plots are shown at the size their text
was drawn for, and the header has the logo, the dark-mode toggle and, when the site was
built with ``MINTAKA_REPO_URL``, the repository link. Screenshots land in the build folder.

Needs the site built first (``hatch run docs:build``; CI builds it before the tests) and
Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from tests.docs._chromium import Chromium, attributes, walk
from tests.docs._site import SITE, built_site, pages

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.browser

SCREENSHOTS = SITE / "_screenshots"
WIDTH = 1280
# Code blocks that may scroll sideways: commands a reader copies whole (a shell line does
# not reflow without changing the command the tests run) and program output or files
# quoted verbatim (their tests compare them to what the program prints). Python, YAML and
# the rest must fit the text column.
VERBATIM = ("console", "text", "json")
# A plot must be shown at least this share of the size its labels were drawn for
# (benchmarks/suite/plots.py draws them to the text column's width).
PLOT_SCALE = 0.9
MERMAID_TEXT_PX = 12

# Every way a page can push its text off the side, as a list of sentences.
LAYOUT_PROBLEMS = """
(verbatim => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth} px`);
  }
  const content = document.querySelector('.md-content__inner');
  const start = element => element.textContent.trim().split('\\n')[0].slice(0, 60);
  for (const table of content.querySelectorAll('.md-typeset__scrollwrap')) {
    const over = table.scrollWidth - table.clientWidth;
    if (over > 1) problems.push(`a table scrolls sideways by ${over} px: ${start(table)}`);
  }
  for (const block of content.querySelectorAll('div.highlight')) {
    const language = [...block.classList].find(name => name.startsWith('language-'));
    const code = block.querySelector('pre > code');
    if (!code || verbatim.includes((language || '').slice('language-'.length))) continue;
    const over = code.scrollWidth - code.clientWidth;
    if (over > 1) {
      problems.push(`a ${language || 'code'} block scrolls sideways by ${over} px: ${start(code)}`);
    }
  }
  // A line of inline code in a table may end after a space or a mark such as "(" or ".",
  // never between two letters of a name.
  for (const code of content.querySelectorAll('table code')) {
    const text = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let previous = null;
    for (let node = text.nextNode(); node; node = text.nextNode()) {
      for (let index = 0; index < node.data.length; index++) {
        const range = document.createRange();
        range.setStart(node, index);
        range.setEnd(node, index + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        const character = node.data[index];
        if (previous && box.top > previous.top + 1
            && /\\w/.test(previous.character) && /\\w/.test(character)) {
          problems.push(`\\`${code.textContent}\\` breaks inside a word, before "${character}"`);
        }
        previous = {top: box.top, character};
      }
    }
  }
  for (const image of content.querySelectorAll('img')) {
    const name = image.src.split('/').pop();
    const shown = image.getBoundingClientRect().width;
    if (!image.complete || image.naturalWidth === 0) {
      problems.push(`${name} did not load`);
    } else if (shown < PLOT_SCALE * image.naturalWidth) {
      const drawn = image.naturalWidth;
      problems.push(`${name} is shown ${Math.round(shown)} px wide, drawn ${drawn} px`);
    }
  }
  return problems;
})
"""

# The text of an SVG as the reader sees it: its CSS size times the SVG's scale on screen.
SVG_TEXT_SIZES = """function () {
  return [...this.querySelectorAll('text')].map(text => ({
    text: text.textContent,
    px: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
  }));
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    site = built_site()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def start_chromium(profile: Path) -> Chromium:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    return Chromium(binary, profile, width=WIDTH)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    chromium = start_chromium(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def screenshot(browser: Chromium, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SCREENSHOTS / name)
    assert (SCREENSHOTS / name).stat().st_size > 10_000


def test_home_page_renders_its_diagram_offline_with_readable_text(
    browser: Chromium, site_url: str
) -> None:
    assert (SITE / "assets" / "vendor" / "mermaid.min.js").is_file()
    browser.load(site_url)
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
    # A diagram wider than the text column is scaled down, and its text with it.
    sizes = browser.call_on_node(svg[0]["nodeId"], SVG_TEXT_SIZES)
    assert sizes
    small = [size for size in sizes if size["px"] < MERMAID_TEXT_PX - 0.01]
    assert not small, f"diagram text under {MERMAID_TEXT_PX} px at {WIDTH} px: {small}"
    screenshot(browser, "home.png")


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
    screenshot(browser, "search.png")


def test_every_page_reads_at_1280_px_without_sideways_scrolling(
    browser: Chromium, site_url: str
) -> None:
    check = f"{LAYOUT_PROBLEMS.replace('PLOT_SCALE', str(PLOT_SCALE))}({json.dumps(VERBATIM)})"
    problems = {}
    for page in pages(built_site()):
        browser.load(site_url + page)
        found = browser.evaluate(check)
        assert isinstance(found, list), f"{page or 'home'}: the layout check did not run"
        if found:
            problems[page or "home"] = found
    assert not problems, "\n".join(
        f"{page}: {problem}" for page, found in problems.items() for problem in found
    )


def test_the_benchmarks_page_shows_its_first_plot_near_the_top(
    browser: Chromium, site_url: str
) -> None:
    browser.load(f"{site_url}benchmarks/")
    top = browser.evaluate(
        "document.querySelector('.md-content img').getBoundingClientRect().top + scrollY"
    )
    # Within the first screen of a laptop: the introduction, then the plot.
    assert top < 1000, f"the first plot starts {top:.0f} px down"
    browser.evaluate("document.querySelector('.md-content img').scrollIntoView()")
    screenshot(browser, "benchmarks.png")


def test_the_header_has_the_logo_and_a_dark_mode_toggle(browser: Chromium, site_url: str) -> None:
    browser.load(site_url)
    logo = browser.evaluate(
        "(image => image && [image.getAttribute('src'), image.naturalWidth])"
        "(document.querySelector('.md-header .md-logo img'))"
    )
    assert logo is not None, "the header shows no logo"
    assert logo[0].endswith("assets/logo.svg")
    assert logo[1] > 0, "the logo did not load"
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert browser.evaluate(scheme) == "default"  # headless Chromium prefers light
    toggle = "document.querySelector('[data-md-component=palette] label:not([hidden])')"
    assert browser.evaluate(f"{toggle}.title") == "Switch to dark mode"
    browser.evaluate(f"{toggle}.click()")
    browser.wait_for(f"{scheme} === 'slate'")
    assert browser.evaluate(f"{toggle}.title") == "Switch to light mode"
    screenshot(browser, "home-dark.png")


def test_the_header_links_the_repository_when_the_build_names_one(
    browser: Chromium, site_url: str
) -> None:
    """CI builds without ``MINTAKA_REPO_URL`` (no public address yet): no link, no error.

    With the address set for the build and for this test, the header links it.
    """
    browser.load(site_url)
    link = browser.evaluate("document.querySelector('.md-header .md-source')?.href ?? null")
    expected = os.environ.get("MINTAKA_REPO_URL")
    if expected is None:
        assert link is None
    else:
        assert link is not None, "the header shows no repository link"
        assert link.rstrip("/") == expected.rstrip("/")
