"""FastAPI's own documentation routes: the OpenAPI schema, Swagger UI, its redirect, ReDoc.

A FastAPI app adds them to its router when it is created, at the URLs it was given
(`openapi_url`, `docs_url`, `swagger_ui_oauth2_redirect_url`, `redoc_url`), as plain
Starlette routes whose endpoints FastAPI defines. They are recognised by exactly that,
per app, so a route of the user's at the same path, or a mounted app's own documentation,
is told apart without a list of well-known paths.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from starlette.routing import Route

from mintaka.introspect._walk import is_fastapi_route

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from mintaka.introspect._walk import Place

__all__ = ["DocumentationRoutes", "documentation_urls"]


def _url(app: object, attribute: str) -> str | None:
    value = getattr(app, attribute, None)
    return value if isinstance(value, str) and value else None


def documentation_urls(app: object) -> frozenset[str]:
    """The paths FastAPI serves its documentation at for `app`, the way FastAPI decides."""
    openapi_url = _url(app, "openapi_url")
    if openapi_url is None:
        return frozenset()  # without a schema, FastAPI serves no documentation at all
    urls = {openapi_url}
    docs_url = _url(app, "docs_url")
    if docs_url is not None:
        urls.add(docs_url)
        redirect_url = _url(app, "swagger_ui_oauth2_redirect_url")
        if redirect_url is not None:
            urls.add(redirect_url)
    redoc_url = _url(app, "redoc_url")
    if redoc_url is not None:
        urls.add(redoc_url)
    return frozenset(urls)


def _is_fastapi_app(app: object) -> bool:
    fastapi_class = getattr(sys.modules.get("fastapi.applications"), "FastAPI", None)
    return isinstance(fastapi_class, type) and isinstance(app, fastapi_class)


class DocumentationRoutes:
    """Tell FastAPI's documentation routes from the app's own, reading each app once."""

    def __init__(self) -> None:
        self._routes: dict[int, frozenset[int]] = {}

    def _of(self, app: object) -> frozenset[int]:
        key = id(app)
        if key not in self._routes:
            found: set[int] = set()
            if _is_fastapi_app(app):
                urls = documentation_urls(app)
                for route in getattr(getattr(app, "router", None), "routes", None) or ():
                    endpoint_module = getattr(getattr(route, "endpoint", None), "__module__", "")
                    if (
                        isinstance(route, Route)
                        and not is_fastapi_route(route)
                        and route.path in urls
                        and str(endpoint_module).partition(".")[0] == "fastapi"
                    ):
                        found.add(id(route))
            self._routes[key] = frozenset(found)
        return self._routes[key]

    def __call__(self, route: BaseRoute, place: Place) -> bool:
        """Whether `route`, reached at `place`, is documentation its FastAPI app serves."""
        return bool(place.apps) and id(route) in self._of(place.apps[-1])
