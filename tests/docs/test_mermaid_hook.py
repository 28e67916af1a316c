"""The docs build vendors mermaid.js once, and says how to provide it when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs._console import REPO, import_file

hook = import_file(REPO / "docs" / "_hooks" / "mermaid.py", "docs_mermaid_hook")


def test_a_vendored_copy_of_the_pinned_release_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "mermaid.min.js"
    target.write_text("/* mermaid */")
    target.with_name("mermaid.version").write_text(hook.MERMAID_VERSION + "\n")
    monkeypatch.setenv("PATH", "")  # no npm: nothing may be fetched
    assert hook.vendor_mermaid(target) == target
    assert target.read_text() == "/* mermaid */"


def test_without_npm_the_error_says_how_to_provide_mermaid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "mermaid.min.js"
    target.write_text("/* an older release */")
    target.with_name("mermaid.version").write_text("10.0.0\n")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(hook.MermaidUnavailableError, match="apt-get install npm"):
        hook.vendor_mermaid(target)


def test_the_built_site_serves_the_pinned_release() -> None:
    site_copy = REPO / "site" / "assets" / "vendor" / "mermaid.min.js"
    if not site_copy.is_file():
        pytest.skip("the site is not built: run `hatch run docs:build` first")
    vendored = REPO / "docs" / "assets" / "vendor"
    assert (vendored / "mermaid.version").read_text().strip() == hook.MERMAID_VERSION
    assert site_copy.read_bytes() == (vendored / "mermaid.min.js").read_bytes()
