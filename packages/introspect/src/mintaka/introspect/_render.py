"""Render route rows as an aligned text table, the way `flask routes` prints them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mintaka.introspect._route_info import RouteInfo

__all__ = ["render_table"]


def _cells(row: RouteInfo, *, with_host: bool) -> list[str]:
    cells = [row.method]
    if with_host:
        cells.append(row.host or "*")
    cells += [
        row.path,
        row.name or "",
        row.endpoint,
        row.kind,
        "yes" if row.include_in_schema else "no",
    ]
    return cells


def render_table(rows: Sequence[RouteInfo], marks: Sequence[str] | None = None) -> str:
    """Return the rows as a table with a header, aligned columns and no trailing spaces.

    A Host column appears only when some row is served under a `Host` (`*` marks rows
    that answer on every host). `marks`, when given, is a first column with one entry
    per row, such as the `+`/`-` of a diff.
    """
    with_host = any(row.host is not None for row in rows)
    header = ["Method", *(["Host"] if with_host else []), "Path", "Name", "Endpoint"]
    header += ["Kind", "Schema"]
    table = [header, *(_cells(row, with_host=with_host) for row in rows)]
    if marks is not None:
        marked = ([mark, *cells] for mark, cells in zip(marks, table[1:], strict=True))
        table = [[" ", *table[0]], *marked]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    rule = ["-" * width for width in widths]
    if marks is not None:
        rule[0] = " " * widths[0]
    lines = [table[0], rule, *table[1:]]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
