"""Route snapshots: the route table saved as JSON, one route per line, for git and CI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from mintaka.introspect._route_info import RouteInfo, RouteKind

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

__all__ = ["SNAPSHOT_VERSION", "SnapshotError", "dump_snapshot", "parse_snapshot", "read_snapshot"]

SNAPSHOT_FORMAT = "mintaka-routes"
SNAPSHOT_VERSION = 1
"""The snapshot format version [`dump_snapshot`][mintaka.introspect.dump_snapshot] writes."""

_FIELDS: dict[str, tuple[type, ...]] = {
    "method": (str,),
    "path": (str,),
    "host": (str, type(None)),
    "name": (str, type(None)),
    "endpoint": (str,),
    "kind": (str,),
    "include_in_schema": (bool,),
}
_KINDS: tuple[str, ...] = get_args(RouteKind)


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


def dump_snapshot(routes: Iterable[RouteInfo]) -> str:
    """Serialize route rows as a snapshot: JSON text with one route per line.

    The rows keep the order they are given in (a route table is already sorted), so the
    same app always gives the same text and a change shows as a one-line diff.

    Example:
        ```python
        from pathlib import Path
        from mintaka.introspect import dump_snapshot, route_table

        Path("api-routes.json").write_text(dump_snapshot(route_table(app)))
        ```

    Args:
        routes: The rows, usually [`route_table`][mintaka.introspect.route_table]`(app)`.

    Returns:
        The snapshot text, ending with a newline.
    """
    lines = [json.dumps(dataclasses.asdict(row), ensure_ascii=False) for row in routes]
    body = ",\n    ".join(lines)
    routes_json = f"[\n    {body}\n  ]" if lines else "[]"
    return (
        f'{{\n  "format": "{SNAPSHOT_FORMAT}",\n  "version": {SNAPSHOT_VERSION},\n'
        f'  "routes": {routes_json}\n}}\n'
    )


def _route_from_json(item: Any, where: str) -> RouteInfo:
    if not isinstance(item, dict):
        raise SnapshotError(f"{where} is {item!r}, expected an object with the route's fields")
    missing = [name for name in _FIELDS if name not in item]
    if missing:
        raise SnapshotError(f"{where} lacks the field(s) {', '.join(missing)}")
    for name, types in _FIELDS.items():
        if not isinstance(item[name], types):
            raise SnapshotError(f"{where} has {name}={item[name]!r}, of the wrong type")
    if item["kind"] not in _KINDS:
        raise SnapshotError(f"{where} has kind={item['kind']!r}; expected one of {_KINDS}")
    return RouteInfo(**{name: item[name] for name in _FIELDS})


def parse_snapshot(text: str, *, source: str = "the snapshot") -> list[RouteInfo]:
    """Read route rows back from snapshot text written by `dump_snapshot`.

    Example:
        ```python
        from mintaka.introspect import dump_snapshot, parse_snapshot, route_table

        rows = route_table(app)
        assert parse_snapshot(dump_snapshot(rows)) == rows
        ```

    Args:
        text: The snapshot's JSON text.
        source: What to call the snapshot in error messages, such as its file name.

    Returns:
        The rows, in the order the snapshot lists them.

    Raises:
        SnapshotError: The text is not JSON, not a mintaka-routes snapshot, of a newer
            format version, or a route in it lacks a field or has one of the wrong type.
    """
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
    if data.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(
            f"{source} has snapshot format version {data.get('version')!r}; this "
            f"mintaka-introspect reads version {SNAPSHOT_VERSION}. Upgrade "
            f"mintaka-introspect, or {regenerate}"
        )
    routes = data.get("routes")
    if not isinstance(routes, list):
        raise SnapshotError(f'{source} has no "routes" list; {regenerate}')
    return [
        _route_from_json(item, f"{source}: route {index + 1}") for index, item in enumerate(routes)
    ]


def read_snapshot(path: str | os.PathLike[str]) -> list[RouteInfo]:
    """Read route rows from a snapshot file written by `mintaka-routes --write`.

    Example:
        ```python
        from mintaka.introspect import diff_route_tables, read_snapshot, route_table

        diff = diff_route_tables(read_snapshot("api-routes.json"), route_table(app))
        assert not diff, diff.format()
        ```

    Args:
        path: The snapshot file.

    Returns:
        The rows, in the order the file lists them.

    Raises:
        SnapshotError: The file does not exist, cannot be read, or does not parse (see
            [`parse_snapshot`][mintaka.introspect.parse_snapshot]).
    """
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
    return parse_snapshot(text, source=f"snapshot file {str(file)!r}")
