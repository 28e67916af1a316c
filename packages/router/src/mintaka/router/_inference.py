"""The response model a `Router` route gets: explicit, inferred, or none at all."""

from __future__ import annotations

import inspect
import types
import typing
from typing import TYPE_CHECKING, Any, Union

from fastapi.datastructures import DefaultPlaceholder
from starlette.responses import Response

from mintaka.core._callables import (
    annotation_namespace,
    resolve_annotation,
    signature_of,
    signature_owner,
)
from mintaka.router._errors import RouteRegistrationError
from mintaka.router._no_body import body_allowed

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["response_model_for_route"]

_NoneType = type(None)


def response_model_for_route(
    endpoint: Callable[..., Any], response_model: Any, status_code: int | None, where: str
) -> Any:
    """Decide the `response_model` to hand to FastAPI for one route.

    Args:
        endpoint: The route's endpoint.
        response_model: What the user passed; a FastAPI `DefaultPlaceholder` means nothing
            was passed, and only then is the model inferred from the return annotation.
        status_code: The route's `status_code`, `None` for FastAPI's default (200).
        where: The route as [`describe_route`][mintaka.router._errors.describe_route]
            names it, for error messages.

    Returns:
        The model, `None` for no model, or `response_model` unchanged for a generator
        endpoint, whose streaming FastAPI handles itself.

    Raises:
        RouteRegistrationError: The return annotation cannot be resolved, or a model was
            given or implied for a status code that allows no body.
    """
    if isinstance(response_model, DefaultPlaceholder):
        if _is_generator_endpoint(endpoint):
            return response_model
        annotation = _resolved_return_annotation(endpoint, where)
        model = _model_from_annotation(annotation)
        source = f"the return annotation implies response_model={_type_name(model)}"
        fix = "annotate the endpoint `-> None` (or a Response class), pass response_model=None"
    else:
        model = response_model
        source = f"response_model={_type_name(model)} was given"
        fix = "remove the response_model"
    if model is not None and status_code is not None and not body_allowed(int(status_code)):
        raise RouteRegistrationError(
            f"{where}: status code {int(status_code)} allows no response body, but {source}; "
            f"{fix}, or use a status code with a body."
        )
    return model


def _is_generator_endpoint(endpoint: Callable[..., Any]) -> bool:
    target = signature_owner(endpoint)
    return inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target)


def _resolved_return_annotation(endpoint: Callable[..., Any], where: str) -> Any:
    try:
        # Only the return annotation: a parameter annotation that FastAPI resolves its own
        # way cannot break inference.
        raw = signature_of(endpoint).return_annotation
        if raw is inspect.Signature.empty:
            return None
        return resolve_annotation(raw, annotation_namespace(endpoint))
    except NameError as error:
        missing = getattr(error, "name", None) or str(error)
        module = getattr(signature_owner(endpoint), "__module__", None) or "its module"
        raise RouteRegistrationError(
            f"{where}: cannot resolve the return annotation, {missing!r} is not defined in "
            f"{module}. Define or import {missing} at module level there, at runtime (not "
            "only under `if TYPE_CHECKING:`) and before the route is declared, or pass "
            "response_model= explicitly (response_model=None for no model)."
        ) from error
    except Exception as error:
        raise RouteRegistrationError(
            f"{where}: cannot resolve the return annotation: {error}. Fix the annotation or "
            "pass response_model= explicitly (response_model=None for no model)."
        ) from error


def _is_response_class(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Response)


def _model_from_annotation(annotation: Any) -> Any:
    """Map a resolved return annotation to a response model, `None` meaning no model.

    `None` and `Response` classes mean no model. In a union the `Response` members are
    dropped (FastAPI sends a returned response as is, unvalidated) and the rest, if it is
    more than `None`, is the model.
    """
    if annotation is None or annotation is _NoneType or _is_response_class(annotation):
        return None
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return annotation
    members = typing.get_args(annotation)
    data = tuple(member for member in members if not _is_response_class(member))
    if len(data) == len(members):
        return annotation
    if all(member is _NoneType for member in data):
        return None
    return Union[data]  # noqa: UP007 - builds a union from a runtime tuple


def _type_name(model: Any) -> str:
    return model.__qualname__ if isinstance(model, type) else repr(model)
