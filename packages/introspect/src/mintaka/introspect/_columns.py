"""The optional columns of a FastAPI route: status code, response model, tags and flags."""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, get_args

from mintaka.introspect._walk import is_fastapi_route

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.routing import BaseRoute

    from mintaka.introspect._walk import Place

__all__ = ["COLUMNS", "Column", "column_values", "parse_columns", "type_name"]

Column = Literal["status", "model", "deprecated", "tags", "operation_id"]
"""An optional column of the route table, for FastAPI routes.

`"status"` is [`RouteInfo.status_code`][mintaka.introspect.RouteInfo], `"model"` its
`response_model`, `"deprecated"`, `"tags"` and `"operation_id"` the attributes of the
same names.
"""

COLUMNS: tuple[Column, ...] = get_args(Column)

FIELD_OF_COLUMN: dict[Column, str] = {
    "status": "status_code",
    "model": "response_model",
    "deprecated": "deprecated",
    "tags": "tags",
    "operation_id": "operation_id",
}


def parse_columns(columns: Collection[str]) -> tuple[Column, ...]:
    """Check column names and return them in the table's column order.

    Raises:
        ValueError: A name is not a column.
    """
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; choose from {', '.join(COLUMNS)}"
        )
    return tuple(column for column in COLUMNS if column in columns)


def type_name(annotation: object) -> str:
    """Name a type briefly, the way it is written: `Item`, `list[Item]`, `Item | None`."""
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None and args:
        return f"{type_name(origin)}[{', '.join(type_name(arg) for arg in args)}]"
    qualname = getattr(annotation, "__qualname__", None)
    return str(qualname) if isinstance(qualname, str) else repr(annotation)


def _tag(tag: object) -> str:
    return str(tag.value) if isinstance(tag, Enum) else str(tag)


def column_values(route: BaseRoute, place: Place, columns: Collection[Column]) -> dict[str, Any]:
    """Return the `RouteInfo` fields of the asked columns for a FastAPI route (else none)."""
    if not columns or not is_fastapi_route(route):
        return {}
    api: Any = route
    values: dict[str, Any] = {
        "status_code": api.status_code,
        "response_model": None if api.response_model is None else type_name(api.response_model),
        "deprecated": bool(api.deprecated or place.deprecated),
        "tags": tuple(_tag(tag) for tag in (*place.tags, *(api.tags or ()))),
        "operation_id": api.operation_id,
    }
    return {FIELD_OF_COLUMN[column]: values[FIELD_OF_COLUMN[column]] for column in columns}
