"""One row of the route table: what a single route serves, for one method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["RouteInfo", "RouteKind", "SortKey", "method_rank", "sort_routes"]

RouteKind = Literal["http", "websocket", "mount"]
"""What a row describes.

`"http"` is an HTTP route, `"websocket"` a WebSocket route (its method is `WS`), and
`"mount"` an ASGI app mounted as a black box (for example `StaticFiles`): it answers
every method under its path, which is shown as `/prefix/{path:path}`.
"""

SortKey = Literal["path", "method", "name"]
"""The column a route table is sorted by; ties are broken by the other columns."""

SORT_KEYS: tuple[str, ...] = get_args(SortKey)

_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY", "TRACE")


@dataclass(frozen=True, order=False)
class RouteInfo:
    """What one route serves for one method: a row of the route table.

    A route that serves several methods gives one row per method, so that every row is
    one line of the API surface and a snapshot diff names exactly what changed.

    Example:
        ```python
        from mintaka.introspect import route_table

        for row in route_table(app):
            print(row.method, row.path, row.name, row.endpoint)
        # GET /items/{item_id} read_item myapp.main.read_item
        ```

    Attributes:
        method: The HTTP method (`"GET"`, ...), `"WS"` for a WebSocket route, or `"*"`
            for a route that accepts any method (a mounted ASGI app, or a `Route` whose
            endpoint is a plain ASGI app).
        path: The full path template as the router matches it, convertors as written
            (`/files/{file_path:path}`): mount paths and router prefixes included.
        host: The host template of the enclosing `Host` route, or `None` when the route
            answers on every host.
        name: The route's name (what `url_path_for` takes), or `None` for a nameless mount.
        endpoint: The qualified name of the endpoint (`package.module.function`), or of
            the mounted app's class for a `"mount"` row.
        kind: `"http"`, `"websocket"` or `"mount"`; see
            [`RouteKind`][mintaka.introspect.RouteKind].
        include_in_schema: Whether the route asks to appear in the OpenAPI schema: its
            own `include_in_schema`, combined with that of the FastAPI routers that
            include it (the way FastAPI combines them). Always `False` for WebSocket
            routes and mounts, which no HTTP schema describes.
        status_code: The status code a FastAPI route declares (`status_code=`), `None`
            when it declares none. Like the attributes below, it is filled in only when
            the column was asked for (`route_table(app, columns=["status"])`) and stays
            `None` for routes that are not FastAPI routes.
        response_model: The response model of a FastAPI route, as a short type name
            (`"Item"`, `"list[Item]"`), `None` when it has none.
        deprecated: Whether a FastAPI route is marked deprecated (by itself or by a
            router that includes it).
        tags: The OpenAPI tags of a FastAPI route, its routers' tags included.
        operation_id: The `operation_id=` a FastAPI route declares, `None` when it lets
            FastAPI generate one.
    """

    method: str
    path: str
    host: str | None
    name: str | None
    endpoint: str
    kind: RouteKind
    include_in_schema: bool
    status_code: int | None = None
    response_model: str | None = None
    deprecated: bool | None = None
    tags: tuple[str, ...] | None = None
    operation_id: str | None = None

    @property
    def method_path(self) -> str:
        """The row as `"METHOD /path"`, the form `method_paths_from_routes` returns.

        Example:
            ```python
            row.method_path  # "GET /items/{item_id}"
            ```
        """
        return f"{self.method} {self.path}"


def method_rank(method: str) -> tuple[int, str]:
    if method in _METHOD_ORDER:
        return _METHOD_ORDER.index(method), method
    if method == "WS":
        return len(_METHOD_ORDER) + 2, method
    if method == "*":
        return len(_METHOD_ORDER) + 1, method
    return len(_METHOD_ORDER), method


def sort_routes(rows: list[RouteInfo], by: SortKey = "path") -> list[RouteInfo]:
    """Return `rows` sorted by one column, ties broken by the others, the same every run.

    Methods sort in their usual order (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ...),
    then `*`, then `WS`.

    Example:
        ```python
        sort_routes(rows, by="method")
        ```

    Args:
        rows: The rows to sort.
        by: `"path"`, `"method"` or `"name"`.

    Returns:
        A new sorted list.

    Raises:
        ValueError: `by` is not one of the sort keys.
    """
    if by not in SORT_KEYS:
        raise ValueError(f"cannot sort routes by {by!r}; use one of {', '.join(SORT_KEYS)}")

    def key(row: RouteInfo) -> tuple[object, ...]:
        path = (row.path, row.host or "")
        rest = (row.name or "", row.endpoint, row.kind, row.include_in_schema, repr(row))
        if by == "method":
            return (method_rank(row.method), *path, *rest)
        if by == "name":
            return (row.name or "", *path, method_rank(row.method), *rest)
        return (*path, method_rank(row.method), *rest)

    return sorted(rows, key=key)
