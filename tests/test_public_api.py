"""The public surface of every mintaka distribution, checked by one set of rules.

Nothing here names a module or an exported name: the distributions are the folders under
`packages/`, their public modules every `.py` file under `src/mintaka/` whose dotted path has
no part starting with `_`, so a new module is covered the day it is added. A distribution
that is not installed in this environment (the Starlette-only one has no router or depends),
or a module whose import fails because an optional extra is missing, is skipped and says so.

The rules, for every public module:

1. `__all__` exists and every name in it is defined in the module.
2. Every public name the module binds itself is in `__all__`: whatever it defines (`def`,
   `class`, an assignment) and whatever it imports from a private mintaka module (a
   re-export). Exempt are submodules, names imported from outside mintaka, and names that
   another public module exports (the module uses them, it does not export them).
3. A reference page under `docs/reference/` renders the module with a `::: module` block.
   mkdocstrings renders a module's `__all__`; where the block lists `members:`, every
   exported name must be listed.
4. Every exported name has a docstring: functions and classes their own `__doc__`;
   constants and type aliases the string literal under their assignment, which is where
   mkdocstrings reads it. Functions and classes also have an `Example:` section; exceptions
   and warnings are exempt, since users catch them rather than call them, and their
   docstrings say when they are raised.
5. Dunder names are not rendered (the reference filters out `_` names). The one in use,
   `__version__`, is exported by the package of each distribution (`mintaka.<name>`) and is
   the version of the installed distribution.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import re
import tomllib
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "docs" / "reference"


@dataclass(frozen=True)
class Distribution:
    """One folder under packages/: its distribution name and its package."""

    name: str
    package: str
    source: Path


@dataclass(frozen=True)
class PublicModule:
    """A public module, and the distribution it ships in."""

    name: str
    distribution: Distribution


def _distributions() -> list[Distribution]:
    found = []
    for pyproject in sorted(REPO.glob("packages/*/pyproject.toml")):
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        source = pyproject.parent / "src"
        (package_dir,) = (path for path in (source / "mintaka").iterdir() if path.is_dir())
        found.append(Distribution(name, f"mintaka.{package_dir.name}", source))
    return found


def _public_modules() -> list[PublicModule]:
    modules = []
    for distribution in _distributions():
        for path in sorted((distribution.source / "mintaka").rglob("*.py")):
            parts = path.relative_to(distribution.source).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not any(part.startswith("_") for part in parts):
                modules.append(PublicModule(".".join(parts), distribution))
    return modules


DISTRIBUTIONS = _distributions()
MODULES = _public_modules()


def _is_installed(distribution: Distribution) -> bool:
    try:
        importlib.metadata.version(distribution.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _extra_requirements(distribution: Distribution) -> set[str]:
    """The top-level import names of what the distribution's extras install."""
    requirements = importlib.metadata.requires(distribution.name) or []
    return {
        re.split(r"[^A-Za-z0-9_.-]", requirement, maxsplit=1)[0].lower().replace("-", "_")
        for requirement in requirements
        if "extra ==" in requirement
    }


def _is_fixture(value: object) -> bool:
    """A pytest fixture: pytest wraps the function, whose docstring stays its `__doc__`."""
    return callable(value) and type(value).__module__.startswith("_pytest.")


def load(module: PublicModule) -> types.ModuleType:
    """Import the module, or skip: its distribution or one of its extras is not installed."""
    if not _is_installed(module.distribution):
        pytest.skip(f"{module.distribution.name} is not installed in this environment")
    try:
        return importlib.import_module(module.name)
    except ImportError as error:
        missing = error.__cause__ if error.__cause__ is not None else error
        top = (getattr(missing, "name", None) or "").partition(".")[0]
        if isinstance(missing, ModuleNotFoundError) and top in _extra_requirements(
            module.distribution
        ):
            pytest.skip(f"{module.name} needs an extra that is not installed: {error}")
        raise


@cache
def _tree(module_name: str) -> ast.Module:
    spec = importlib.util.find_spec(module_name)
    assert spec is not None
    assert spec.origin is not None
    return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))


def _runtime_statements(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """The statement lists that run on import: the body, and `try`/`with`/`if` bodies in it."""
    blocks = [body]
    for statement in body:
        if isinstance(statement, ast.Try | ast.With):
            blocks += _runtime_statements(statement.body)
        elif isinstance(statement, ast.If) and "TYPE_CHECKING" not in ast.unparse(statement.test):
            blocks += _runtime_statements(statement.body) + _runtime_statements(statement.orelse)
    return blocks


def _assigned_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.AnnAssign):  # the sources target 3.11: no `type` statement
        targets: list[ast.expr] = [statement.target]
    elif isinstance(statement, ast.Assign):
        targets = statement.targets
    else:
        return set()
    return {
        node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
    }


@dataclass(frozen=True)
class Binding:
    """How a module binds a name: defined by `statement`, or imported from `source`."""

    statement: ast.stmt | None = None
    docstring: str | None = None
    source: str | None = None


def binding(module_name: str, name: str) -> Binding | None:
    """Where `module_name` binds `name` when it is imported, from its source."""
    for block in _runtime_statements(_tree(module_name).body):
        for index, statement in enumerate(block):
            if name in _assigned_names(statement):
                following = block[index + 1] if index + 1 < len(block) else None
                docstring = None
                if (
                    isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)
                ):
                    docstring = following.value.value
                return Binding(statement=statement, docstring=docstring)
            if isinstance(statement, ast.ImportFrom) and statement.module is not None:
                for alias in statement.names:
                    if (alias.asname or alias.name) == name:
                        return Binding(source=statement.module)
    return None


def attribute_docstring(module_name: str, name: str) -> str | None:
    """The docstring under the assignment of `name`, following mintaka re-exports."""
    found = binding(module_name, name)
    if found is None:
        return None
    if found.source is not None and found.source.startswith("mintaka."):
        return attribute_docstring(found.source, name)
    return found.docstring


def _is_private(module_name: str) -> bool:
    return any(part.startswith("_") for part in module_name.split("."))


def exported_elsewhere(module: PublicModule, name: str) -> bool:
    """Whether another installed public module lists `name` in its `__all__`."""
    for other in MODULES:
        if other.name == module.name or not _is_installed(other.distribution):
            continue
        try:
            exported = importlib.import_module(other.name).__all__
        except ImportError:
            continue
        if name in exported:
            return True
    return False


def documented_members(module_name: str) -> list[str] | None:
    """The `members:` a reference page lists for the module; `None` means all of `__all__`.

    Fails when no page renders the module.
    """
    for page in sorted(REFERENCE.glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if line.strip() != f"::: {module_name}":
                continue
            options = []
            for option in lines[index + 1 :]:
                if option and not option[0].isspace():
                    break
                options.append(option.strip())
            if "members:" not in options:
                return None
            listed = options[options.index("members:") + 1 :]
            return [item.removeprefix("- ") for item in listed if item.startswith("- ")]
    pytest.fail(f"no page under docs/reference/ renders {module_name} (add `::: {module_name}`)")


def _public(names: list[str]) -> list[str]:
    return [name for name in names if not (name.startswith("__") and name.endswith("__"))]


modules = pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])


def test_every_folder_under_packages_has_public_modules() -> None:
    assert {module.distribution for module in MODULES} == set(DISTRIBUTIONS)
    assert len(DISTRIBUTIONS) == len(list(REPO.glob("packages/*/pyproject.toml")))


@modules
def test_all_exists_and_names_what_the_module_defines(module: PublicModule) -> None:
    imported = load(module)

    exported = getattr(imported, "__all__", None)
    assert isinstance(exported, list), f"{module.name} has no __all__"
    assert exported, f"{module.name} exports nothing"
    assert len(exported) == len(set(exported)), f"{module.name}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(imported, name)]
    assert missing == [], f"{module.name}.__all__ names what it does not define"


@modules
def test_every_public_name_the_module_binds_is_exported(module: PublicModule) -> None:
    imported = load(module)

    unexported = []
    for name, value in vars(imported).items():
        if name.startswith("_") or name in imported.__all__ or isinstance(value, types.ModuleType):
            continue
        found = binding(module.name, name)
        if found is not None and found.source is not None:
            if not found.source.startswith("mintaka.") or not _is_private(found.source):
                continue  # from outside mintaka, or a public name used from another module
            if exported_elsewhere(module, name):
                continue
        unexported.append(name)

    assert unexported == [], (
        f"{module.name} binds public names outside __all__: rename them with a leading "
        "underscore or export them"
    )


@modules
def test_the_reference_renders_every_exported_name(module: PublicModule) -> None:
    imported = load(module)

    members = documented_members(module.name)

    if members is not None:
        unlisted = [name for name in _public(imported.__all__) if name not in members]
        assert unlisted == [], f"docs/reference lists members of {module.name} without these"
        assert set(members) <= set(imported.__all__), "docs/reference lists unexported names"


@modules
def test_every_exported_name_has_a_docstring_and_callables_an_example(
    module: PublicModule,
) -> None:
    imported = load(module)

    undocumented, without_example = [], []
    for name in _public(imported.__all__):
        value = getattr(imported, name)
        if inspect.isclass(value) or inspect.isfunction(value) or _is_fixture(value):
            doc = inspect.cleandoc(value.__doc__ or "")
            is_error = inspect.isclass(value) and issubclass(value, BaseException)
            sections = {line.strip() for line in doc.splitlines()}
            if doc and not is_error and "Example:" not in sections:
                without_example.append(name)
        else:
            doc = attribute_docstring(module.name, name) or ""
        if not doc:
            undocumented.append(name)

    assert undocumented == [], f"{module.name}: these names have no docstring"
    assert without_example == [], f"{module.name}: these docstrings have no `Example:` section"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=[d.name for d in DISTRIBUTIONS])
def test_each_package_exports_the_version_of_its_distribution(
    distribution: Distribution,
) -> None:
    if not _is_installed(distribution):
        pytest.skip(f"{distribution.name} is not installed in this environment")
    package = importlib.import_module(distribution.package)

    assert "__version__" in package.__all__, f"{distribution.package} does not export it"
    assert package.__version__ == importlib.metadata.version(distribution.name)
