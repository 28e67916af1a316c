"""The FastAPI and Python versions the test matrix runs, read from hatch.toml.

hatch.toml is the one source of truth for which versions are tested. Pages do not repeat
the numbers: they write a placeholder, and this hook replaces it while the site builds.

- ``{{ matrix.table }}``: the Compatibility table, one row per FastAPI version.
- ``{{ matrix.oldest }}`` / ``{{ matrix.newest }}``: the oldest and newest FastAPI.
- ``{{ matrix.pythons }}``: the Python versions, as ``3.11, 3.12 and 3.13``.

The matrix is what CI runs: the main cell (``[[envs.hatch-test.matrix]]``, ``hatch test``)
and every cell of the ``compat`` environment (``[[envs.compat.matrix]]``). A table without
a ``fastapi`` list runs the newest FastAPI, which hatch.toml writes once, as the default of
``{matrix:fastapi:VERSION}`` in the hatch-test dependencies.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

HATCH_TOML = Path(__file__).resolve().parents[2] / "hatch.toml"
PLACEHOLDER = re.compile(r"\{\{\s*matrix\.(\w+)\s*\}\}")

# What FastAPI changed at each version the matrix runs: the reason the version is there.
CHANGES = {
    "0.110.0": "the floor; FastAPI tears `yield` dependencies down before the response is "
    "sent (since 0.106)",
    "0.117.1": "the last version with that order",
    "0.118.0": "`yield` teardown moved to after the response and after background tasks",
    "0.120.4": "the last version without `Depends(scope=...)`",
    "0.121.0": '`Depends(..., scope="function" | "request")`',
    "0.123.5": "FastAPI unwraps `__wrapped__` when it inspects a dependency",
    "0.136.3": "the last version that copies included routes into `app.routes`",
    "0.137.0": "`include_router` adds a lazy entry; `get_route_handler()` runs per inclusion",
}


class MatrixError(ValueError):
    """hatch.toml has no test matrix this hook can read."""


@dataclass(frozen=True)
class Matrix:
    """The tested versions: for each FastAPI version, the Pythons it runs on."""

    cells: dict[str, tuple[str, ...]]

    @property
    def fastapi_versions(self) -> list[str]:
        """Every FastAPI version, oldest first."""
        return sorted(self.cells, key=Version)

    @property
    def oldest(self) -> str:
        """The oldest FastAPI version tested."""
        return self.fastapi_versions[0]

    @property
    def newest(self) -> str:
        """The newest FastAPI version tested."""
        return self.fastapi_versions[-1]

    @property
    def pythons(self) -> list[str]:
        """Every Python version tested, oldest first."""
        found = {python for pythons in self.cells.values() for python in pythons}
        return sorted(found, key=Version)


_MATRIX_ENVIRONMENTS = ("hatch-test", "compat")
_NEWEST = re.compile(r"\{matrix:fastapi:([^}]+)\}")


def _as_list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise MatrixError(f"hatch.toml: {what} in a test matrix table must be a list of strings")


def _newest_fastapi(environments: dict[str, Any]) -> str | None:
    """The default of ``{matrix:fastapi:VERSION}`` in the hatch-test dependencies."""
    dependencies = environments.get("hatch-test", {}).get("extra-dependencies", [])
    for dependency in dependencies:
        found = _NEWEST.search(dependency) if isinstance(dependency, str) else None
        if found:
            return found.group(1)
    return None


def read_matrix(hatch_toml: Path = HATCH_TOML) -> Matrix:
    """Read the test matrix tables of ``hatch_toml`` (``hatch-test`` and ``compat``).

    Raises:
        MatrixError: There is no matrix, a table has no ``python`` list, or a table names
            no FastAPI and hatch.toml writes no newest version.
    """
    config = tomllib.loads(hatch_toml.read_text(encoding="utf-8"))
    environments = config.get("envs", {})
    newest = _newest_fastapi(environments)
    cells: dict[str, set[str]] = {}
    for environment in _MATRIX_ENVIRONMENTS:
        for table in environments.get(environment, {}).get("matrix", []):
            if "python" not in table:
                raise MatrixError(f"{hatch_toml}: a test matrix table lacks 'python'")
            if "fastapi" in table:
                versions = _as_list(table["fastapi"], "fastapi")
            elif newest is not None:
                versions = [newest]
            else:
                raise MatrixError(
                    f"{hatch_toml}: a test matrix table names no FastAPI, and the hatch-test "
                    "dependencies give no default ({matrix:fastapi:VERSION})"
                )
            for fastapi in versions:
                cells.setdefault(fastapi, set()).update(_as_list(table["python"], "python"))
    if not cells:
        raise MatrixError(f"{hatch_toml}: no test matrix table lists FastAPI")
    return Matrix({v: tuple(sorted(p, key=Version)) for v, p in cells.items()})


def _spoken(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def render_table(matrix: Matrix) -> str:
    """The Compatibility table: FastAPI version, Pythons, and why the version is tested."""
    rows = ["| FastAPI | Python | why this version is tested |", "|---|---|---|"]
    for version in matrix.fastapi_versions:
        note = CHANGES.get(version, "")
        if version == matrix.newest:
            note = "the newest release the suite runs on"
        pythons = ", ".join(matrix.cells[version])
        rows.append(f"| {version} | {pythons} | {note} |")
    return "\n".join(rows)


def render(markdown: str, matrix: Matrix) -> str:
    """Replace every ``{{ matrix.NAME }}`` placeholder in ``markdown``.

    Raises:
        MatrixError: A placeholder names nothing this hook knows.
    """
    values = {
        "table": lambda: render_table(matrix),
        "oldest": lambda: matrix.oldest,
        "newest": lambda: matrix.newest,
        "pythons": lambda: _spoken(matrix.pythons),
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values))
            raise MatrixError(f"unknown placeholder {match.group(0)!r}; known: {known}")
        return values[name]()

    return PLACEHOLDER.sub(replace, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs hook: fill the placeholders of every page."""
    return render(markdown, read_matrix())
