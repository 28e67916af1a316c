"""The built site, opened in headless Chromium with no internet: the home page's diagram
renders, and the search box finds a public name. Screenshots land in the build folder.

Needs the site built first (``hatch run docs:build``; CI builds it before the tests) and
Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.docs._console import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

SITE = Path(os.environ.get("MINTAKA_SITE_DIR", REPO / "site"))
SCREENSHOTS = SITE / "_screenshots"
# Only the local server resolves: a page that reaches for a CDN fails, as it would offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed: apt-get install -y chromium (.ci/run does)")


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


def run_chromium(chromium: str, profile: Path, *args: str, wait_ms: int = 10_000) -> str:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        OFFLINE,
        # Wait this long after load: mermaid renders and the search worker answers
        # asynchronously.
        f"--timeout={wait_ms}",
        "--window-size=1280,1800",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def test_home_page_renders_its_diagram_offline(
    chromium: str, site_url: str, tmp_path: Path
) -> None:
    assert (SITE / "assets" / "vendor" / "mermaid.min.js").is_file()
    dom = run_chromium(chromium, tmp_path, "--dump-dom", site_url)
    assert "Which distribution for what" in dom
    # mkdocs-material replaces the diagram's <pre class="mermaid"> source with a rendered
    # <div class="mermaid"> (the SVG is in its closed shadow root) only once mermaid.js
    # loaded and rendered it; a failed load or render leaves the <pre> in place.
    assert '<div class="mermaid">' in dom
    assert '<pre class="mermaid"' not in dom
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "home.png"
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", site_url)
    assert shot.stat().st_size > 10_000


def test_search_finds_response_scoped_dependency(
    chromium: str, site_url: str, tmp_path: Path
) -> None:
    # mkdocs-material opens the search with ?q= filled in; its web worker answers.
    url = f"{site_url}?q=response_scoped_dependency"
    # The worker builds its index first; on a busy machine that takes longer.
    for wait_ms in (10_000, 30_000, 60_000):
        dom = run_chromium(chromium, tmp_path, "--dump-dom", url, wait_ms=wait_ms)
        meta = re.search(r'md-search-result__meta">([^<]*)<', dom)
        assert meta is not None
        if "Initializing" not in meta.group(1):
            break
    assert re.fullmatch(r"\d+ matching documents?", meta.group(1).strip()), meta.group(1)
    results = dom[dom.index("md-search-result__list") :]
    assert "reference/depends/#mintaka.depends.response_scoped_dependency" in results
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "search.png"
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", url, wait_ms=wait_ms)
    assert shot.stat().st_size > 10_000
