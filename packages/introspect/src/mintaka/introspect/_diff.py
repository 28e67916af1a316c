"""The API-surface diff: which routes a snapshot and the app disagree on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mintaka.introspect._render import render_table
from mintaka.introspect._route_info import RouteInfo, method_rank, sort_routes

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["RouteDiff", "diff_route_tables"]


@dataclass(frozen=True)
class RouteDiff:
    """What changed between an expected route table (a snapshot) and the actual one.

    A route whose method and path stayed but whose name, endpoint, kind or schema flag
    changed shows as removed in its old form and added in its new one. The diff is false
    when nothing changed.

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
    """

    added: tuple[RouteInfo, ...]
    removed: tuple[RouteInfo, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def format(self) -> str:
        """Return a readable table of the changes: `-` for removed rows, `+` for added.

        Example:
            ```python
            print(diff.format())
            #    Method  Path              Name         Endpoint              Kind  Schema
            #    ------  ----------------  -----------  --------------------  ----  ------
            # +  POST    /items/           create_item  app.main.create_item  http  yes
            # -  DELETE  /items/{item_id}  delete_item  app.main.delete_item  http  yes
            ```

        Returns:
            The table, or `"No route changed."` when the diff is empty.
        """
        if not self:
            return "No route changed."
        marked = [("-", row) for row in self.removed] + [("+", row) for row in self.added]
        # A route changed in place shows its old row right above its new one.
        marked.sort(
            key=lambda pair: (
                pair[1].path,
                pair[1].host or "",
                method_rank(pair[1].method),
                pair[0] == "+",
                pair[1].name or "",
                pair[1].endpoint,
            )
        )
        return render_table([row for _, row in marked], marks=[mark for mark, _ in marked])

    def summary(self) -> str:
        """Return a one-line count, such as `"2 routes added, 1 removed"`.

        Example:
            ```python
            diff.summary()  # "1 route added, 0 removed"
            ```
        """
        noun = "route" if len(self.added) == 1 else "routes"
        return f"{len(self.added)} {noun} added, {len(self.removed)} removed"


def diff_route_tables(expected: Iterable[RouteInfo], actual: Iterable[RouteInfo]) -> RouteDiff:
    """Compare two route tables as multisets of rows; order does not matter.

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
        The rows only in `actual` (added) and only in `expected` (removed).
    """
    expected_count = Counter(expected)
    actual_count = Counter(actual)
    added = list((actual_count - expected_count).elements())
    removed = list((expected_count - actual_count).elements())
    return RouteDiff(added=tuple(sort_routes(added)), removed=tuple(sort_routes(removed)))
