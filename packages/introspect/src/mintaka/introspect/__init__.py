"""mintaka-introspect: see every route a Starlette or FastAPI app really serves.

[`method_paths_from_routes`][mintaka.introspect.method_paths_from_routes] returns
`"GET /logs/"` strings, [`route_table`][mintaka.introspect.route_table] the structured
rows behind them, and the `mintaka-routes` command prints them, saves them as a snapshot
and checks an app against one in CI. Everything the router dispatches to is followed:
included routers (copied by FastAPI up to 0.136, included lazily from 0.137), mounts,
hosts and WebSocket routes. Only Starlette is needed; FastAPI is never imported.
"""

from mintaka.introspect._diff import RouteDiff, diff_route_tables
from mintaka.introspect._listing import method_paths_from_routes, route_table
from mintaka.introspect._route_info import RouteInfo, RouteKind, SortKey, sort_routes
from mintaka.introspect._snapshot import (
    SNAPSHOT_VERSION,
    SnapshotError,
    dump_snapshot,
    parse_snapshot,
    read_snapshot,
)
from mintaka.introspect._walk import UnlistedRouteWarning

__all__ = [
    "SNAPSHOT_VERSION",
    "RouteDiff",
    "RouteInfo",
    "RouteKind",
    "SnapshotError",
    "SortKey",
    "UnlistedRouteWarning",
    "diff_route_tables",
    "dump_snapshot",
    "method_paths_from_routes",
    "parse_snapshot",
    "read_snapshot",
    "route_table",
    "sort_routes",
]
