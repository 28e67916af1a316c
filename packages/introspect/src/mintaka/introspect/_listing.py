"""The public listings: `method_paths_from_routes` and `route_table`."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from mintaka.introspect._columns import column_values, parse_columns
from mintaka.introspect._docs_routes import DocumentationRoutes
from mintaka.introspect._route_info import RouteInfo, SortKey, sort_routes
from mintaka.introspect._walk import routes_of, top_place, walk_routes

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from mintaka.introspect._columns import Column

__all__ = ["compile_exclude", "method_paths_from_routes", "route_table"]


def _routes_or_raise(routes: object) -> list[BaseRoute]:
    found = routes_of(routes)
    if found is None:
        raise TypeError(
            f"expected a list of routes, or an app or router with a `routes` list (a "
            f"Starlette or FastAPI app, a Router, an APIRouter), got {routes!r}"
        )
    return found


def compile_exclude(exclude: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    """Compile an exclusion pattern, with an error that shows the bad pattern.

    Raises:
        ValueError: `exclude` is not a valid regular expression.
    """
    if exclude is None or isinstance(exclude, re.Pattern):
        return exclude
    try:
        return re.compile(exclude)
    except re.error as error:
        message = f"exclude={exclude!r} is not a valid regular expression: {error}"
        raise ValueError(message) from None


def route_table(
    routes: Sequence[BaseRoute] | ASGIApp,
    *,
    include_websockets: bool = True,
    include_implicit_head: bool = True,
    sort: SortKey = "path",
    columns: Collection[Column] = (),
    exclude: str | re.Pattern[str] | None = None,
    include_docs_routes: bool = True,
) -> list[RouteInfo]:
    """List every route the app or routes serve, one row per method, sorted stably.

    Everything the router dispatches to is listed: Starlette `Route`s and FastAPI
    routes, routers added with `include_router` (nested and prefixed, on every FastAPI
    version, whether it copies them or includes them lazily), `Mount`ed apps and routers
    (mount path + inner path), `Host` routes (their host in
    [`RouteInfo.host`][mintaka.introspect.RouteInfo]) and WebSocket routes. An app
    mounted as a black box (such as `StaticFiles`) is one `"mount"` row for every method
    under `/prefix/{path:path}`.

    The optional `columns` fill in more of each FastAPI route's row: its status code,
    response model, deprecation, tags and operation id.

    Example:
        ```python
        from fastapi import FastAPI
        from mintaka.introspect import route_table

        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/items/{item_id}")
        async def read_item(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        [(row.method, row.path, row.name) for row in route_table(app)]
        # [("GET", "/items/{item_id}", "read_item")]

        rows = route_table(app, columns=["status", "model"], exclude=r"^/health")
        rows = route_table(app, include_docs_routes=False)  # without /docs, /openapi.json, ...
        ```

    Args:
        routes: An app or router (anything with a `routes` list, middleware around it
            included), or a list of routes such as `app.routes`.
        include_websockets: List WebSocket routes (method `WS`).
        include_implicit_head: List the `HEAD` that Starlette's `Route` adds to every
            route that serves `GET`. FastAPI's own routes never add it, and a `HEAD`
            they declare is always listed.
        sort: The column to sort by: `"path"`, `"method"` or `"name"`.
        columns: Optional columns to fill in for FastAPI routes: `"status"`, `"model"`,
            `"deprecated"`, `"tags"`, `"operation_id"` (see
            [`RouteInfo`][mintaka.introspect.RouteInfo]).
        exclude: A regular expression; routes whose path it matches (`re.search`) are
            left out, such as health checks.
        include_docs_routes: List the routes a FastAPI app serves its documentation at
            (its `openapi_url`, `docs_url`, `swagger_ui_oauth2_redirect_url` and
            `redoc_url`), those of mounted FastAPI apps too. `False` leaves them out,
            as `mintaka-routes` does by default; they are recognised through the app,
            so pass the app rather than its list of routes.

    Returns:
        The rows, sorted by `sort` and then by the other columns.

    Raises:
        TypeError: `routes` is neither a list of routes nor something that has one.
        ValueError: `sort` is not a sort key, a column is unknown, or `exclude` is not
            a valid regular expression.

    Warns:
        UnlistedRouteWarning: A route of an unknown kind was left out.
    """
    extra = functools.partial(column_values, columns=parse_columns(columns)) if columns else None
    pattern = compile_exclude(exclude)
    rows = walk_routes(
        _routes_or_raise(routes),
        implicit_head=include_implicit_head,
        extra=extra,
        place=top_place(routes),
        skip=None if include_docs_routes else DocumentationRoutes(),
    )
    if not include_websockets:
        rows = (row for row in rows if row.kind != "websocket")
    if pattern is not None:
        rows = (row for row in rows if not pattern.search(row.path))
    return sort_routes(list(rows), by=sort)


def method_paths_from_routes(
    routes: Sequence[BaseRoute] | ASGIApp,
    *,
    include_websockets: bool = False,
    include_implicit_head: bool = True,
) -> set[str]:
    """Return `"METHOD /path"` for every HTTP route reachable from `routes`.

    A drop-in for Prefect's helper of the same name that also sees what it missed:
    routers included lazily by FastAPI 0.137 and newer, `Mount`ed apps and routers,
    `Host` routes, and (when asked) WebSocket routes. Paths are the templates the router
    matches, convertors as written (`GET /files/{file_path:path}`); a route under a
    `Host` is listed by its path alone. Apps mounted as a black box (such as
    `StaticFiles`) have no known methods and are left out; see
    [`route_table`][mintaka.introspect.route_table] for them and for hosts.

    Example:
        ```python
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Mount, Route
        from mintaka.introspect import method_paths_from_routes

        async def logs(request):
            return PlainTextResponse("...")

        app = Starlette(routes=[Mount("/api", routes=[Route("/logs/", logs)])])
        method_paths_from_routes(app.routes)
        # {"GET /api/logs/", "HEAD /api/logs/"}
        method_paths_from_routes(app, include_implicit_head=False)
        # {"GET /api/logs/"}
        ```

    Args:
        routes: A list of routes such as `app.routes`, or an app or router itself.
        include_websockets: Also return WebSocket routes, as `"WS /path"`.
        include_implicit_head: Keep the `HEAD` that Starlette's `Route` adds to every
            route that serves `GET`.

    Returns:
        The set of `"METHOD /path"` strings. A route that accepts any method (its
        endpoint is a plain ASGI app) appears as `"* /path"`.

    Raises:
        TypeError: `routes` is neither a list of routes nor something that has one.

    Warns:
        UnlistedRouteWarning: A route of an unknown kind was left out.
    """
    rows = walk_routes(_routes_or_raise(routes), implicit_head=include_implicit_head)
    kinds = {"http", "websocket"} if include_websockets else {"http"}
    return {row.method_path for row in rows if row.kind in kinds}
