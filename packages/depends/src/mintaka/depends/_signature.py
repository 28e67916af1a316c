"""The signature FastAPI sees on a response-scoped dependency.

FastAPI reads a dependency's parameters from `inspect.signature` and resolves string
annotations against the `__globals__` of the callable it was given. The wrapper lives in
this package, so string annotations (and `from __future__ import annotations`) of the
wrapped dependency are resolved here, against the dependency's own module, and the
wrapper carries the resolved signature.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from typing import Annotated, Any, NamedTuple

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from mintaka.core._callables import (
    annotation_namespace,
    callable_name,
    resolve_annotation,
    signature_of,
)

__all__ = ["WrapperSignature", "wrapper_signature"]

_REQUEST_PARAMETER = "_mintaka_request"
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD
_ITERATOR_ORIGINS = frozenset(
    {
        collections.abc.AsyncGenerator,
        collections.abc.AsyncIterable,
        collections.abc.AsyncIterator,
        collections.abc.Generator,
        collections.abc.Iterable,
        collections.abc.Iterator,
    }
)


class WrapperSignature(NamedTuple):
    """What the wrapper needs to know about the wrapped dependency's parameters."""

    signature: inspect.Signature
    """The signature to show FastAPI: resolved annotations, plus the request parameter."""
    request_parameter: str
    """The keyword under which FastAPI passes the request to the wrapper."""
    request_is_declared: bool
    """Whether the wrapped dependency declared that parameter itself (pass it through)."""


def wrapper_signature(dependency: Any, *, yields_value: bool) -> WrapperSignature:
    """Build the signature of the wrapper of `dependency`.

    Args:
        dependency: The wrapped callable.
        yields_value: The dependency is a generator function, so its return annotation
            (`AsyncIterator[T]`, `Iterator[T]`, ...) names the type of the value as `T`.

    Raises:
        TypeError: The signature cannot be read, or a parameter annotation names
            something that does not exist in the dependency's module.
    """
    try:
        raw = signature_of(dependency)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"response_scoped_dependency() cannot read the signature of "
            f"{callable_name(dependency)}: {error}. Pass a function, a class or a callable "
            "object whose parameters FastAPI can inspect."
        ) from error
    namespace = annotation_namespace(dependency)
    parameters = []
    request_parameter: str | None = None
    for parameter in raw.parameters.values():
        annotation = _resolve_parameter(dependency, parameter, namespace)
        if request_parameter is None and _is_request(annotation):
            request_parameter = parameter.name
        parameters.append(parameter.replace(annotation=annotation))
    returns = _resolve_return(raw.return_annotation, namespace, yields_value=yields_value)
    declared = request_parameter is not None
    if request_parameter is None:
        request_parameter = _unused_name(_REQUEST_PARAMETER, {p.name for p in parameters})
        hidden = inspect.Parameter(
            request_parameter, inspect.Parameter.KEYWORD_ONLY, annotation=HTTPConnection
        )
        # A keyword-only parameter must precede **kwargs.
        has_var_keyword = bool(parameters) and parameters[-1].kind is _VAR_KEYWORD
        parameters.insert(len(parameters) - has_var_keyword, hidden)
    signature = raw.replace(parameters=parameters, return_annotation=returns)
    return WrapperSignature(signature, request_parameter, request_is_declared=declared)


def _resolve_parameter(
    dependency: Any, parameter: inspect.Parameter, namespace: dict[str, Any]
) -> Any:
    if parameter.annotation is inspect.Parameter.empty:
        return inspect.Parameter.empty
    try:
        return resolve_annotation(parameter.annotation, namespace)
    except Exception as error:
        raise TypeError(
            f"response_scoped_dependency() cannot resolve the annotation "
            f"{parameter.annotation!r} of parameter {parameter.name!r} of "
            f"{callable_name(dependency)}: {error}. FastAPI needs it at runtime: import or "
            "define it before the decorated dependency (not only under TYPE_CHECKING)."
        ) from error


def _resolve_return(annotation: Any, namespace: dict[str, Any], *, yields_value: bool) -> Any:
    """The type of the value the dependency provides, or empty when it is not evident."""
    if annotation is inspect.Signature.empty or not yields_value:
        return inspect.Signature.empty
    try:
        resolved = resolve_annotation(annotation, namespace)
    except Exception:  # FastAPI never reads it, so an unknown name costs nothing
        return inspect.Signature.empty
    if typing.get_origin(resolved) in _ITERATOR_ORIGINS and typing.get_args(resolved):
        return typing.get_args(resolved)[0]
    return inspect.Signature.empty


def _is_request(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return (
        isinstance(annotation, type)
        and issubclass(annotation, HTTPConnection)
        and not issubclass(annotation, WebSocket)
    )


def _unused_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name
