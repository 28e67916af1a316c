"""Route snapshots: the route table saved as JSON, one route per line, for git and CI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from mintaka.introspect._columns import FIELD_OF_COLUMN, parse_columns
from mintaka.introspect._route_info import RouteInfo, RouteKind

if TYPE_CHECKING:
    import os
    from collections.abc import Collection, Iterable

    from mintaka.introspect._columns import Column

__all__ = ["Snapshot", "SnapshotError", "dump_snapshot", "load_snapshot", "read_snapshot"]

SNAPSHOT_FORMAT = "mintaka-routes"
# Version 1: the seven base fields. Version 2 adds "columns", the optional fields recorded.
# A snapshot without optional columns is still written as version 1, so it does not churn.
_PLAIN_VERSION, _COLUMNS_VERSION = 1, 2

_FIELDS: dict[str, tuple[type, ...]] = {
    "method": (str,),
    "path": (str,),
    "host": (str, type(None)),
    "name": (str, type(None)),
    "endpoint": (str,),
    "kind": (str,),
    "include_in_schema": (bool,),
}
_COLUMN_TYPES: dict[str, tuple[type, ...]] = {
    "status_code": (int, type(None)),
    "response_model": (str, type(None)),
    "deprecated": (bool, type(None)),
    "tags": (list, type(None)),
    "operation_id": (str, type(None)),
}
_KINDS: tuple[str, ...] = get_args(RouteKind)


@dataclass(frozen=True)
class Snapshot:
    """A snapshot as read: its rows and the optional columns it recorded."""

    rows: list[RouteInfo]
    columns: tuple[Column, ...]


class SnapshotError(ValueError):
    """A route snapshot could not be read: missing, not JSON, or not in the expected shape.

    The message names the file and what is wrong with it.

    Example:
        ```python
        from mintaka.introspect import SnapshotError, read_snapshot

        try:
            expected = read_snapshot("api-routes.json")
        except SnapshotError as error:
            print(error)
        ```
    """


def dump_snapshot(routes: Iterable[RouteInfo], *, columns: Collection[Column] = ()) -> str:
    """Serialize route rows as a snapshot: JSON text with one route per line.

    The rows keep the order they are given in (a route table is already sorted), so the
    same app always gives the same text and a change shows as a one-line diff.

    Example:
        ```python
        from pathlib import Path
        from mintaka.introspect import dump_snapshot, route_table

        Path("api-routes.json").write_text(dump_snapshot(route_table(app)))

        columns = ["status", "model"]
        rows = route_table(app, columns=columns)
        Path("api-routes.json").write_text(dump_snapshot(rows, columns=columns))
        ```

    Args:
        routes: The rows, usually [`route_table`][mintaka.introspect.route_table]`(app)`.
        columns: The optional columns the rows were listed with, recorded in the
            snapshot so that a check lists the app with the same ones.

    Returns:
        The snapshot text, ending with a newline.

    Raises:
        ValueError: A column is unknown.
    """
    recorded = parse_columns(columns)
    fields = [*_FIELDS, *(FIELD_OF_COLUMN[column] for column in recorded)]
    lines = [
        json.dumps({name: _jsonable(getattr(row, name)) for name in fields}, ensure_ascii=False)
        for row in routes
    ]
    body = ",\n    ".join(lines)
    routes_json = f"[\n    {body}\n  ]" if lines else "[]"
    if not recorded:
        header = f'"version": {_PLAIN_VERSION},'
    else:
        header = f'"version": {_COLUMNS_VERSION},\n  "columns": {json.dumps(list(recorded))},'
    return f'{{\n  "format": "{SNAPSHOT_FORMAT}",\n  {header}\n  "routes": {routes_json}\n}}\n'


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _route_from_json(item: Any, where: str, columns: tuple[Column, ...]) -> RouteInfo:
    if not isinstance(item, dict):
        raise SnapshotError(f"{where} is {item!r}, expected an object with the route's fields")
    optional = [FIELD_OF_COLUMN[column] for column in columns]
    expected = {**_FIELDS, **{name: _COLUMN_TYPES[name] for name in optional}}
    missing = [name for name in expected if name not in item]
    if missing:
        raise SnapshotError(f"{where} lacks the field(s) {', '.join(missing)}")
    for name, types in expected.items():
        # bool is an int: a status code of `true` is wrong, not 1.
        boolean_status = name == "status_code" and isinstance(item[name], bool)
        if not isinstance(item[name], types) or boolean_status:
            raise SnapshotError(f"{where} has {name}={item[name]!r}, of the wrong type")
    if item["kind"] not in _KINDS:
        raise SnapshotError(f"{where} has kind={item['kind']!r}; expected one of {_KINDS}")
    values = {name: item[name] for name in expected}
    if values.get("tags") is not None:
        values["tags"] = tuple(str(tag) for tag in values["tags"])
    return RouteInfo(**values)


def _parse(text: str, source: str) -> Snapshot:
    regenerate = "write it again with `mintaka-routes MODULE:APP --write FILE`"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"{source} is not valid JSON ({error}); {regenerate}") from None
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f'{source} is not a mintaka-routes snapshot (no "format": "{SNAPSHOT_FORMAT}" '
            f"field); {regenerate}"
        )
    version = data.get("version")
    if version not in (_PLAIN_VERSION, _COLUMNS_VERSION) or isinstance(version, bool):
        raise SnapshotError(
            f"{source} has snapshot format version {version!r}; this mintaka-introspect "
            f"reads versions {_PLAIN_VERSION} and {_COLUMNS_VERSION}. Upgrade "
            f"mintaka-introspect, or {regenerate}"
        )
    columns: tuple[Column, ...] = ()
    if version == _COLUMNS_VERSION:
        raw = data.get("columns")
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            raise SnapshotError(f'{source} has no "columns" list of names; {regenerate}')
        try:
            columns = parse_columns(raw)
        except ValueError as error:
            raise SnapshotError(f"{source}: {error}; {regenerate}") from None
    routes = data.get("routes")
    if not isinstance(routes, list):
        raise SnapshotError(f'{source} has no "routes" list; {regenerate}')
    rows = [
        _route_from_json(item, f"{source}: route {index + 1}", columns)
        for index, item in enumerate(routes)
    ]
    return Snapshot(rows, columns)


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot file with the columns it recorded (see `read_snapshot`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(
            f"snapshot file {str(file)!r} does not exist; create it with "
            f"`mintaka-routes MODULE:APP --write {file}`"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SnapshotError(f"snapshot file {str(file)!r} cannot be read: {error}") from None
    return _parse(text, source=f"snapshot file {str(file)!r}")


def read_snapshot(path: str | os.PathLike[str]) -> list[RouteInfo]:
    """Read route rows from a snapshot file written by `mintaka-routes --write`.

    Example:
        ```python
        from mintaka.introspect import diff_route_tables, read_snapshot, route_table

        diff = diff_route_tables(read_snapshot("api-routes.json"), route_table(app))
        assert not diff, diff.format()
        ```

    Snapshots of every format version read: those written before the optional columns
    existed (version 1), and those that record some (version 2). A snapshot written with
    columns holds them in its rows; list the app with the same `columns` to compare.

    Args:
        path: The snapshot file.

    Returns:
        The rows, in the order the file lists them.

    Raises:
        SnapshotError: The file does not exist, cannot be read, is not JSON, not a
            mintaka-routes snapshot, of a newer format version, or a route in it lacks
            a field or has one of the wrong type.
    """
    return load_snapshot(path).rows
