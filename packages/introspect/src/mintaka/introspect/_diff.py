"""The API-surface diff: which routes a snapshot and the app disagree on, and how."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from mintaka.introspect._render import render_table
from mintaka.introspect._route_info import RouteInfo, method_rank, sort_routes

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["RouteChange", "RouteDiff", "diff_route_tables"]

_LABELS = {
    "name": "name",
    "endpoint": "endpoint",
    "kind": "kind",
    "include_in_schema": "in schema",
    "status_code": "status code",
    "response_model": "response model",
    "deprecated": "deprecated",
    "tags": "tags",
    "operation_id": "operation id",
}


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) if value else "no tags"
    return str(value)


@dataclass(frozen=True)
class RouteChange:
    """One route (same method, host and path) whose other columns changed.

    Example:
        ```python
        for change in diff.changed:
            print(change.describe())
        # GET /items/{item_id}: response model Item → ItemV2
        ```

    Attributes:
        before: The row as the snapshot lists it.
        after: The row as the app serves it now.
    """

    before: RouteInfo
    after: RouteInfo

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the `RouteInfo` fields that differ, in the table's order."""
        return tuple(
            field.name
            for field in fields(RouteInfo)
            if getattr(self.before, field.name) != getattr(self.after, field.name)
        )

    def describe(self) -> str:
        """Name the route and each change, such as `"GET /items: status code 200 → 201"`."""
        where = self.after.method_path
        if self.after.host is not None:
            where = f"{where} (host {self.after.host})"
        changes = "; ".join(
            f"{_LABELS[name]} {_shown(getattr(self.before, name))} → "
            f"{_shown(getattr(self.after, name))}"
            for name in self.fields
        )
        return f"{where}: {changes}"


@dataclass(frozen=True)
class RouteDiff:
    """What changed between an expected route table (a snapshot) and the actual one.

    Rows are matched by method, host and path: a route that is in both but changed its
    name, endpoint, kind, schema flag or an optional column (status code, response
    model, ...) is a [`RouteChange`][mintaka.introspect.RouteChange] that names what
    changed. The diff is false when nothing changed.

    Example:
        ```python
        from mintaka.introspect import diff_route_tables, read_snapshot, route_table

        diff = diff_route_tables(read_snapshot("api-routes.json"), route_table(app))
        if diff:
            print(diff.format())
        ```

    Attributes:
        added: Rows the app serves that the snapshot does not list, sorted by path.
        removed: Rows the snapshot lists that the app no longer serves, sorted by path.
        changed: Routes in both whose other columns differ, sorted by path.
    """

    added: tuple[RouteInfo, ...]
    removed: tuple[RouteInfo, ...]
    changed: tuple[RouteChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def format(self) -> str:
        """Return the changes readably: added (`+`) and removed (`-`) rows, then changes.

        Added and removed rows are a table; each changed route is one line.

        Example:
            ```python
            print(diff.format())
            #    Method  Path              Name         Endpoint              Kind  Schema
            #    ------  ----------------  -----------  --------------------  ----  ------
            # +  POST    /items/           create_item  app.main.create_item  http  yes
            # -  DELETE  /items/{item_id}  delete_item  app.main.delete_item  http  yes
            #
            # Changed:
            #   GET /items/{item_id}: response model Item → ItemV2
            ```

        Returns:
            The text, or `"No route changed."` when the diff is empty.
        """
        if not self:
            return "No route changed."
        parts = []
        if self.added or self.removed:
            marked = [("-", row) for row in self.removed] + [("+", row) for row in self.added]
            marked.sort(key=lambda pair: (*_key(pair[1]), pair[0] == "+"))
            parts.append(
                render_table([row for _, row in marked], marks=[mark for mark, _ in marked])
            )
        if self.changed:
            lines = "\n".join(f"  {change.describe()}" for change in self.changed)
            parts.append(f"Changed:\n{lines}")
        return "\n\n".join(parts)

    def summary(self) -> str:
        """Return a one-line count, such as `"2 routes added, 1 removed, 1 changed"`.

        Example:
            ```python
            diff.summary()  # "1 route added, 0 removed, 0 changed"
            ```
        """
        noun = "route" if len(self.added) == 1 else "routes"
        counts = f"{len(self.added)} {noun} added, {len(self.removed)} removed"
        return f"{counts}, {len(self.changed)} changed"


def _key(row: RouteInfo) -> tuple[object, ...]:
    return (row.path, row.host or "", method_rank(row.method))


def diff_route_tables(expected: Iterable[RouteInfo], actual: Iterable[RouteInfo]) -> RouteDiff:
    """Compare two route tables; order does not matter, and a row listed twice counts twice.

    Example:
        ```python
        from mintaka.introspect import diff_route_tables, read_snapshot, route_table

        def test_api_surface_is_the_snapshot():
            diff = diff_route_tables(read_snapshot("api-routes.json"), route_table(app))
            assert not diff, diff.format()
        ```

    Args:
        expected: The rows you expect, usually read from a snapshot.
        actual: The rows the app serves now.

    Returns:
        The rows only in `actual` (added), only in `expected` (removed), and the routes
        in both whose other columns differ (changed).
    """
    expected_count = Counter(expected)
    actual_count = Counter(actual)
    only_actual = sort_routes(list((actual_count - expected_count).elements()))
    only_expected = sort_routes(list((expected_count - actual_count).elements()))
    waiting: defaultdict[tuple[object, ...], list[RouteInfo]] = defaultdict(list)
    for row in only_expected:
        waiting[(row.method, row.host, row.path)].append(row)
    added, changed = [], []
    for row in only_actual:
        before = waiting.get((row.method, row.host, row.path))
        if before:
            changed.append(RouteChange(before.pop(0), row))
        else:
            added.append(row)
    removed = [row for rows in waiting.values() for row in rows]
    changed.sort(key=lambda change: _key(change.after))
    return RouteDiff(
        added=tuple(added), removed=tuple(sort_routes(removed)), changed=tuple(changed)
    )
