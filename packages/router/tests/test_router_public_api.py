"""The public names of mintaka.router are the ones exported, documented and referenced."""

import inspect
from pathlib import Path

import mintaka.router

REFERENCE = Path(__file__).parents[3] / "docs" / "reference" / "router.md"


def test_every_exported_name_exists_and_documents_itself_with_an_example() -> None:
    for name in mintaka.router.__all__:
        docstring = inspect.getdoc(getattr(mintaka.router, name)) or ""
        assert "Example:" in docstring, f"{name} has no example in its docstring"


def test_the_reference_page_lists_exactly_the_exported_names() -> None:
    listed = {
        line.strip().removeprefix("- ")
        for line in REFERENCE.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("- ")
    }

    assert listed == set(mintaka.router.__all__)


def test_private_modules_are_not_exported() -> None:
    public = {name for name in vars(mintaka.router) if not name.startswith("_")}

    assert public == set(mintaka.router.__all__)
