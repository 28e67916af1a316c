"""Snapshots round-trip exactly, diff readably, and refuse bad files with a clear reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute
from starlette.websockets import WebSocket

from mintaka.introspect import (
    RouteInfo,
    SnapshotError,
    diff_route_tables,
    dump_snapshot,
    read_snapshot,
    route_table,
)

WRITTEN_BEFORE_COLUMNS = 1  # the format version of snapshots without optional columns


@pytest.fixture
def parse_snapshot(tmp_path: Path) -> Callable[[str], list[RouteInfo]]:
    """Read snapshot text back through a file, as `mintaka-routes --check` reads it."""

    def parse(text: str) -> list[RouteInfo]:
        file = tmp_path / "api.json"
        file.write_text(text, encoding="utf-8")
        return read_snapshot(file)

    return parse


async def page(request: Request) -> Response:
    return PlainTextResponse("page")


async def chat(websocket: WebSocket) -> None:
    await websocket.close()


class Static:
    async def __call__(self, scope: object, receive: object, send: object) -> None:
        raise NotImplementedError


def app_routes() -> list[RouteInfo]:
    app = Starlette(
        routes=[
            Route("/items", page, methods=["GET", "POST"]),
            Mount("/static", app=Static()),
            Host("admin.example.com", app=Router(routes=[Route("/panel", page)])),
            WebSocketRoute("/chat", chat),
        ]
    )
    return route_table(app)


def row(method: str, path: str, name: str = "page") -> RouteInfo:
    return RouteInfo(method, path, None, name, f"{__name__}.page", "http", True)


def test_a_snapshot_reads_back_as_exactly_the_rows_it_was_written_from(
    parse_snapshot: Callable[[str], list[RouteInfo]],
) -> None:
    rows = app_routes()

    assert {r.kind for r in rows} == {"http", "websocket", "mount"}
    assert any(r.host for r in rows)
    assert any(r.name is None for r in rows)
    assert parse_snapshot(dump_snapshot(rows)) == rows


def test_a_snapshot_is_versioned_json_with_one_route_per_line_and_the_same_every_time(
    parse_snapshot: Callable[[str], list[RouteInfo]],
) -> None:
    rows = app_routes()
    text = dump_snapshot(rows)

    data = json.loads(text)
    assert (data["format"], data["version"]) == ("mintaka-routes", WRITTEN_BEFORE_COLUMNS)
    route_lines = [line for line in text.splitlines() if line.lstrip().startswith('{"method"')]
    assert len(route_lines) == len(rows)
    assert dump_snapshot(app_routes()) == text
    assert parse_snapshot(dump_snapshot([])) == []


def test_the_diff_names_added_and_removed_rows_and_what_changed_in_a_kept_one() -> None:
    expected = [row("GET", "/a"), row("GET", "/b"), row("DELETE", "/c")]
    actual = [row("GET", "/a"), row("GET", "/b", name="renamed"), row("POST", "/d")]

    diff = diff_route_tables(expected, actual)

    assert diff
    assert diff.added == (row("POST", "/d"),)
    assert diff.removed == (row("DELETE", "/c"),)
    assert [(c.before, c.after) for c in diff.changed] == [
        (row("GET", "/b"), row("GET", "/b", name="renamed"))
    ]
    assert diff.summary() == "1 route added, 1 removed, 1 changed"
    lines = diff.format().splitlines()
    assert lines[0].split() == ["Method", "Path", "Name", "Endpoint", "Kind", "Schema"]
    assert [line.split()[:4] for line in lines[2:4]] == [
        ["-", "DELETE", "/c", "page"],
        ["+", "POST", "/d", "page"],
    ]
    assert lines[-2:] == ["Changed:", "  GET /b: name page → renamed"]


def test_the_diff_table_names_an_endpoint_in_full_where_its_module_is_not_imported() -> None:
    gone = RouteInfo("GET", "/old", None, "old", "deleted_module.views.old", "http", True)

    diff = diff_route_tables([gone], [row("GET", "/a")])

    assert [line.split()[4] for line in diff.format().splitlines()[2:]] == [
        "page",  # this module is imported: where its name begins is known
        "deleted_module.views.old",
    ]


def test_equal_tables_in_any_order_have_an_empty_diff() -> None:
    rows = app_routes()

    diff = diff_route_tables(rows, list(reversed(rows)))

    assert not diff
    assert diff.format() == "No route changed."


def test_a_route_listed_twice_is_counted_twice() -> None:
    diff = diff_route_tables([row("GET", "/a")], [row("GET", "/a"), row("GET", "/a")])

    assert diff.added == (row("GET", "/a"),)
    assert diff.summary() == "1 route added, 0 removed, 0 changed"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "is not valid JSON"),
        ('{"routes": []}', "is not a mintaka-routes snapshot"),
        ('{"format": "mintaka-routes", "version": 99, "routes": []}', "format version 99"),
        ('{"format": "mintaka-routes", "version": 1}', 'has no "routes" list'),
        ('{"format": "mintaka-routes", "version": 1, "routes": [3]}', "route 1 is 3"),
        (
            '{"format": "mintaka-routes", "version": 1, "routes": [{"method": "GET"}]}',
            "route 1 lacks the field(s) path, host, name, endpoint, kind, include_in_schema",
        ),
    ],
)
def test_a_malformed_snapshot_is_refused_with_the_reason(
    text: str, reason: str, parse_snapshot: Callable[[str], list[RouteInfo]]
) -> None:
    with pytest.raises(SnapshotError, match=r"^snapshot file .*api\.json") as raised:
        parse_snapshot(text)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("include_in_schema", "yes", "include_in_schema='yes', of the wrong type"),
        ("kind", "route", "kind='route'; expected one of"),
        ("path", None, "path=None, of the wrong type"),
    ],
)
def test_a_route_with_a_bad_field_is_refused_naming_the_field(
    field: str, value: object, reason: str, parse_snapshot: Callable[[str], list[RouteInfo]]
) -> None:
    data = json.loads(dump_snapshot([row("GET", "/a"), row("GET", "/b")]))
    data["routes"][1][field] = value

    with pytest.raises(SnapshotError, match="route 2") as raised:
        parse_snapshot(json.dumps(data))
    assert reason in str(raised.value)


def test_a_missing_snapshot_file_says_how_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "api-routes.json"

    with pytest.raises(SnapshotError, match="does not exist") as raised:
        read_snapshot(missing)
    assert f"--write {missing}" in str(raised.value)


def test_a_snapshot_file_reads_back_as_its_rows(tmp_path: Path) -> None:
    rows = app_routes()
    file = tmp_path / "api-routes.json"
    file.write_text(dump_snapshot(rows), encoding="utf-8")

    assert read_snapshot(file) == rows
    assert read_snapshot(str(file)) == rows
