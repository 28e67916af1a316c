"""The public surface: what `__all__` promises exists, is documented and has an example."""

import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("module_name", ["mintaka.depends", "mintaka.depends.sqlalchemy"])
def test_every_public_name_exists_and_documents_an_example(module_name: str) -> None:
    module = importlib.import_module(module_name)

    assert module.__all__, f"{module_name} exports nothing"
    for name in module.__all__:
        doc = inspect.getdoc(getattr(module, name))
        if inspect.isfunction(getattr(module, name)):
            assert doc is not None
            assert "Example:" in doc, f"{module_name}.{name} has no example"


@pytest.mark.parametrize("module_name", ["mintaka.depends", "mintaka.depends.sqlalchemy"])
def test_the_reference_page_renders_the_module(module_name: str) -> None:
    page = (ROOT / "docs" / "reference" / "depends.md").read_text(encoding="utf-8")

    assert f"::: {module_name}\n" in page


def test_private_modules_stay_private() -> None:
    import mintaka.depends

    public = {name for name in vars(mintaka.depends) if not name.startswith("_")}

    assert public - {"sqlalchemy"} == set(mintaka.depends.__all__)
