"""mintaka-introspect: see every route a Starlette or FastAPI app really serves.

[`method_paths_from_routes`][mintaka.introspect.method_paths_from_routes] returns
`"GET /logs/"` strings, [`route_table`][mintaka.introspect.route_table] the structured
rows behind them, and the `mintaka-routes` command prints them, saves them as a snapshot
and checks an app against one in CI. Everything the router dispatches to is followed:
included routers (copied by FastAPI up to 0.136, included lazily from 0.137), mounts,
hosts and WebSocket routes.
[`audit_dependencies`][mintaka.introspect.audit_dependencies] (`mintaka-routes --audit`)
shows when every dependency of every FastAPI route closes, and the combinations that
fail or put data at risk. Only Starlette is needed; importing the package never imports
FastAPI.
"""

from mintaka.introspect._audit import audit_dependencies
from mintaka.introspect._audit_results import (
    DependencyAudit,
    DependencyLifetime,
    Finding,
    RouteLifetimes,
)
from mintaka.introspect._diff import RouteChange, RouteDiff, diff_route_tables
from mintaka.introspect._listing import method_paths_from_routes, route_table
from mintaka.introspect._route_info import RouteInfo, RouteKind
from mintaka.introspect._snapshot import SnapshotError, dump_snapshot, read_snapshot
from mintaka.introspect._version import __version__
from mintaka.introspect._walk import UnlistedRouteWarning

__all__ = [
    "DependencyAudit",
    "DependencyLifetime",
    "Finding",
    "RouteChange",
    "RouteDiff",
    "RouteInfo",
    "RouteKind",
    "RouteLifetimes",
    "SnapshotError",
    "UnlistedRouteWarning",
    "__version__",
    "audit_dependencies",
    "diff_route_tables",
    "dump_snapshot",
    "method_paths_from_routes",
    "read_snapshot",
    "route_table",
]
