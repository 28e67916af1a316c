"""The promised names exist, are documented with an example, and the reference shows them."""

from __future__ import annotations

import inspect
from pathlib import Path

import mintaka.introspect

REPO = Path(__file__).resolve().parents[3]


def test_every_name_in_all_exists_and_the_promised_ones_are_there() -> None:
    missing = [name for name in mintaka.introspect.__all__ if not hasattr(mintaka.introspect, name)]

    assert missing == []
    assert {"method_paths_from_routes", "route_table", "RouteInfo", "audit_dependencies"} <= set(
        mintaka.introspect.__all__
    )


def test_the_surface_stays_small_without_the_names_that_duplicated_others() -> None:
    # sort_routes is route_table(sort=...); parse_snapshot and SNAPSHOT_VERSION are
    # read_snapshot's business.
    for name in ("sort_routes", "SortKey", "parse_snapshot", "SNAPSHOT_VERSION"):
        assert not hasattr(mintaka.introspect, name), name


def test_the_version_is_the_one_version_of_every_mintaka_distribution() -> None:
    core_version = REPO / "packages" / "core" / "src" / "mintaka" / "core" / "_version.py"
    namespace: dict[str, str] = {}
    exec(core_version.read_text(encoding="utf-8"), namespace)

    assert mintaka.introspect.__version__ == namespace["__version__"]


def test_every_public_function_and_class_has_a_docstring_with_an_example() -> None:
    undocumented = [
        name
        for name in mintaka.introspect.__all__
        if name != "__version__"
        and (inspect.isfunction(obj := getattr(mintaka.introspect, name)) or inspect.isclass(obj))
        and "Example:" not in (inspect.getdoc(obj) or "")
    ]

    assert undocumented == []


def test_the_reference_page_renders_the_package() -> None:
    page = (REPO / "docs" / "reference" / "introspect.md").read_text(encoding="utf-8")

    assert "::: mintaka.introspect" in page
