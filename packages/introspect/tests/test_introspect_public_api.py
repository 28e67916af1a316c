"""The promised names exist, are documented with an example, and the reference shows them."""

from __future__ import annotations

import inspect
from pathlib import Path

import mintaka.introspect

REPO = Path(__file__).resolve().parents[3]


def test_every_name_in_all_exists_and_the_promised_ones_are_there() -> None:
    missing = [name for name in mintaka.introspect.__all__ if not hasattr(mintaka.introspect, name)]

    assert missing == []
    assert {"method_paths_from_routes", "route_table", "RouteInfo"} <= set(
        mintaka.introspect.__all__
    )


def test_every_public_function_and_class_has_a_docstring_with_an_example() -> None:
    undocumented = [
        name
        for name in mintaka.introspect.__all__
        if (inspect.isfunction(obj := getattr(mintaka.introspect, name)) or inspect.isclass(obj))
        and "Example:" not in (inspect.getdoc(obj) or "")
    ]

    assert undocumented == []


def test_the_reference_page_renders_the_package() -> None:
    page = (REPO / "docs" / "reference" / "introspect.md").read_text(encoding="utf-8")

    assert "::: mintaka.introspect" in page
