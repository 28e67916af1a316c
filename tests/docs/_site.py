"""The built documentation site, for the tests that read it.

The site is built by ``hatch run docs:build`` (CI builds it before the tests); a test that
needs it skips with that advice when it is missing. ``MINTAKA_SITE_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs._console import REPO

SITE = Path(os.environ.get("MINTAKA_SITE_DIR", REPO / "site"))
NOT_PAGES = {"404.html", "search/index.html"}


def built_site() -> Path:
    """The site's folder; skips the test when the site is not built."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built in {SITE}: run `hatch run docs:build` first")
    return SITE


def pages(site: Path) -> list[str]:
    """Every page of the built site as its path under the site root: ``""``, ``"why/"``..."""
    found = []
    for html in sorted(site.rglob("*.html")):
        relative = html.relative_to(site).as_posix()
        if relative in NOT_PAGES:
            continue
        found.append(relative.removesuffix("index.html"))
    return found
