"""The built site publishes the pages and their assets, not the sources behind them.

``exclude_docs`` in mkdocs.yml keeps the build helpers (docs/_hooks/), the files the pages
include (docs/examples/) and the included benchmark tables (docs/benchmarks/results.md)
out of the site. YAML keeps only the last of two keys of the same name, so a second
``exclude_docs`` silently drops the first one's patterns: the key is written once.
"""

from __future__ import annotations

import re

from tests.docs._console import REPO
from tests.docs._site import built_site

SOURCES = ("*.py", "*.console", "*.txt")


def test_mkdocs_yml_writes_exclude_docs_once() -> None:
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert len(re.findall(r"^exclude_docs:", text, flags=re.MULTILINE)) == 1


def test_the_built_site_holds_no_hooks_examples_or_included_tables() -> None:
    site = built_site()
    assert not (site / "_hooks").exists()
    assert not (site / "examples").exists()
    assert not (site / "benchmarks" / "results.md").exists()
    assert not (site / "benchmarks" / "results").exists()
    published = sorted(
        path.relative_to(site).as_posix() for pattern in SOURCES for path in site.rglob(pattern)
    )
    assert published == [], published


def test_the_built_site_keeps_what_the_pages_show_and_link() -> None:
    site = built_site()
    for asset in (
        "assets/logo.svg",
        "assets/favicon.svg",
        "stylesheets/site.css",
        "benchmarks/ratios.png",
        "benchmarks/results.json",
    ):
        assert (site / asset).is_file(), asset
