"""`Router`: an `APIRouter` whose routes are response-scoped and follow the conventions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.datastructures import Default

from mintaka.router._errors import RouteRegistrationError, describe_route
from mintaka.router._inference import response_model_for_route
from mintaka.router._lifetimes import check_dependency_lifetimes
from mintaka.router._no_body import body_allowed
from mintaka.router._route import RouterRoute

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from fastapi.routing import APIRoute

__all__ = ["Router"]


class Router(APIRouter):
    """An `APIRouter` whose routes are response-scoped and follow mintaka's conventions.

    Use it wherever you would use `APIRouter`; it takes the same arguments. Two things
    differ:

    * **Routes are response-scoped.** The default `route_class` is
      [`RouterRoute`][mintaka.router.RouterRoute], so
      [`response_stack`][mintaka.core.response_stack] and the response-scoped
      dependencies of `mintaka-depends` work. A `route_class` you pass (to `Router` or as
      `route_class_override` to `add_api_route`) wins and is used as is.
    * **Conventions are applied in `add_api_route`**, so to every `@router.get/post/...`,
      `api_route` and `add_api_route` call:
        * *Status codes without a body* (1xx, 204, 205, 304): a response model together
          with such a status is a
          [`RouteRegistrationError`][mintaka.router.RouteRegistrationError]; an endpoint
          annotated `-> None` registers with no model. On the wire (with `RouterRoute` or
          a subclass) such responses have an empty body and no `Content-Type` or
          `Content-Length` claiming one.
        * *Inferred response model*: when `response_model` is not passed, it is taken
          from the return annotation, resolved against the endpoint's module (string
          annotations and `from __future__ import annotations` included). `-> None` and
          `Response` classes (or unions of them) mean no model; in a union of data and
          `Response` classes the data part is the model. `response_model=None` turns
          inference off. An annotation that cannot be resolved is a
          `RouteRegistrationError` naming the endpoint and the missing name. Generator
          endpoints (FastAPI's streaming responses) are left to FastAPI.
        * *Dependency lifetimes*: a dependency with a `yield` teardown that FastAPI runs
          (request or function scope) may not depend on a response-scoped one, whose
          resource is closed before that teardown runs; the route is a
          `RouteRegistrationError` naming both and the fix, as FastAPI refuses a
          request-scoped dependency on a function-scoped one.

    Routes keep all of this when the router is included, with or without a prefix, into
    a `FastAPI` app or another router, on every supported FastAPI version.

    Example:
        ```python
        from fastapi import FastAPI, status
        from mintaka.router import Router

        router = Router(prefix="/items")

        @router.get("/{item_id}")
        async def read_item(item_id: int) -> Item:  # response_model=Item, inferred
            ...

        @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
        async def delete_item(item_id: int) -> None:  # no model, no body, no Content-Type
            ...

        app = FastAPI()
        app.include_router(router)
        ```

    Args:
        route_class: The route class of the router's routes; defaults to
            [`RouterRoute`][mintaka.router.RouterRoute].
        **kwargs: Everything else `fastapi.APIRouter` accepts, passed on unchanged.
    """

    def __init__(self, *, route_class: type[APIRoute] = RouterRoute, **kwargs: Any) -> None:
        super().__init__(route_class=route_class, **kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        """Register a route, applying the conventions first.

        Takes exactly the arguments of `fastapi.APIRouter.add_api_route` for the installed
        FastAPI version; only `response_model` may be changed on the way (inferred from the
        return annotation when it was not passed).

        Raises:
            RouteRegistrationError: The route declares a response body for a status code
                that allows none, its return annotation cannot be resolved, or a
                dependency FastAPI tears down depends on a response-scoped one.
        """
        where = describe_route(kwargs.get("methods"), self.prefix + path, endpoint)
        status_code = kwargs.get("status_code")
        kwargs["response_model"] = response_model_for_route(
            endpoint, kwargs.get("response_model", Default(None)), status_code, where
        )
        _check_additional_responses({**self.responses, **(kwargs.get("responses") or {})}, where)
        super().add_api_route(path, endpoint, **kwargs)
        try:
            check_dependency_lifetimes(self.routes[-1].dependant, where)  # type: ignore[attr-defined]
        except RouteRegistrationError:
            self.routes.pop()
            raise


def _check_additional_responses(responses: Mapping[int | str, Any], where: str) -> None:
    """Name the route when `responses=` documents a body for a status that has none."""
    for status, response in responses.items():
        if isinstance(status, str) and not status.isdigit():
            continue  # "default", "2XX": ranges, not a bodiless status
        if isinstance(response, dict) and response.get("model") and not body_allowed(int(status)):
            raise RouteRegistrationError(
                f"{where}: status code {int(status)} allows no response body, but "
                f"responses={{{status!r}: {{'model': ...}}}} documents one; remove the model "
                "from that response."
            )
