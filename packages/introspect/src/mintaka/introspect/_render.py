"""Render route rows as an aligned text table (the way `flask routes` prints them) or Markdown."""

from __future__ import annotations

import sys
import types
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from mintaka.introspect._columns import Column
    from mintaka.introspect._route_info import RouteInfo

__all__ = ["align", "markdown_table", "render_markdown", "render_table", "short_endpoints"]

_HEADERS: dict[Column, str] = {
    "status": "Status",
    "model": "Model",
    "deprecated": "Deprecated",
    "tags": "Tags",
    "operation_id": "Operation ID",
}


def _optional_cell(row: RouteInfo, column: Column) -> str:
    value: object = {
        "status": row.status_code,
        "model": row.response_model,
        "deprecated": row.deprecated,
        "tags": row.tags,
        "operation_id": row.operation_id,
    }[column]
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value) or "-"
    return str(value)


def _split_module(endpoint: str) -> tuple[str, str] | None:
    """`(module, qualname)` of a `module.qualname`, the module being the longest imported one."""
    parts = endpoint.split(".")
    for end in range(len(parts) - 1, 0, -1):
        if isinstance(sys.modules.get(".".join(parts[:end])), types.ModuleType):
            return ".".join(parts[:end]), ".".join(parts[end:])
    return None


def short_endpoints(endpoints: Iterable[str]) -> dict[str, str]:
    """Each endpoint without its module, unless another endpoint has the same qualname.

    `myapp.main.read_item` is shown as `read_item`; `myapp.items.read` and
    `myapp.users.read` keep their modules. An endpoint whose module is not imported (a
    row of a snapshot the app no longer has) keeps it too: where its module ends is not
    known.
    """
    split = {endpoint: _split_module(endpoint) for endpoint in dict.fromkeys(endpoints)}
    qualnames = Counter(parts[1] for parts in split.values() if parts is not None)
    return {
        endpoint: parts[1] if parts is not None and qualnames[parts[1]] == 1 else endpoint
        for endpoint, parts in split.items()
    }


def _grid(rows: Sequence[RouteInfo], columns: Sequence[Column]) -> list[list[str]]:
    with_host = any(row.host is not None for row in rows)
    header = ["Method", *(["Host"] if with_host else []), "Path", "Name", "Endpoint"]
    header += ["Kind", "Schema", *(_HEADERS[column] for column in columns)]
    grid = [header]
    endpoints = short_endpoints(row.endpoint for row in rows)
    for row in rows:
        cells = [row.method, *([row.host or "*"] if with_host else []), row.path]
        cells += [row.name or "", endpoints[row.endpoint], row.kind]
        cells += ["yes" if row.include_in_schema else "no"]
        cells += [_optional_cell(row, column) for column in columns]
        grid.append(cells)
    return grid


def align(table: list[list[str]], *, blank_rule: Sequence[int] = ()) -> str:
    """Align a header and rows into columns, with a rule under the header."""
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    rule = [" " * width if i in blank_rule else "-" * width for i, width in enumerate(widths)]
    lines = [table[0], rule, *table[1:]]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def render_table(
    rows: Sequence[RouteInfo],
    marks: Sequence[str] | None = None,
    columns: Sequence[Column] = (),
) -> str:
    """Return the rows as a table with a header, aligned columns and no trailing spaces.

    A Host column appears only when some row is served under a `Host` (`*` marks rows
    that answer on every host). The Endpoint column drops an endpoint's module unless
    another endpoint in the table has the same qualname (see `short_endpoints`). `marks`,
    when given, is a first column with one entry per row, such as the `+`/`-` of a diff.
    `columns` adds the optional columns.
    """
    table = _grid(rows, columns)
    if marks is None:
        return align(table)
    marked = ([mark, *cells] for mark, cells in zip(marks, table[1:], strict=True))
    return align([[" ", *table[0]], *marked], blank_rule=(0,))


def markdown_table(table: list[list[str]]) -> str:
    """Return a header and rows as a GitHub Markdown table, `|` in cells escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(table[0]), line(["---"] * len(table[0])), *map(line, table[1:])])


def render_markdown(rows: Sequence[RouteInfo], columns: Sequence[Column] = ()) -> str:
    """Return the rows as a Markdown table for a pull-request comment, paths as code."""
    table = _grid(rows, columns)
    path_column = table[0].index("Path")
    for cells in table[1:]:
        cells[path_column] = f"`{cells[path_column]}`"
    return markdown_table(table)
