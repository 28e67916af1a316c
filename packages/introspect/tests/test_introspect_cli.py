"""The `mintaka-routes` command, as a user and CI would run it.

Both entry points, the console script and `python -m mintaka.introspect`, start as real
processes once each. Every other test runs the command in this process (`testing.cli`):
its `main` gets the arguments a shell would pass, and its output and exit status are what
a child process would give.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mintaka.introspect._cli import main
from testing.cli import Completed, run_main

pytestmark = pytest.mark.once

APPS = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute


async def list_items(request):
    return PlainTextResponse("items")


async def create_item(request):
    return PlainTextResponse("created")


async def delete_item(request):
    return PlainTextResponse("deleted")


async def stats(request):
    return PlainTextResponse("stats")


async def chat(websocket):
    await websocket.close()


BASE = [
    Route("/items", list_items, name="list_items"),
    Route("/items", create_item, methods=["POST"], name="create_item"),
    Mount("/admin", routes=[Route("/stats", stats, name="admin_stats")]),
    WebSocketRoute("/chat", chat, name="chat"),
]
app = Starlette(routes=BASE)
grown = Starlette(routes=[*BASE, Route("/items/{item_id:int}", delete_item, methods=["DELETE"])])
shrunk = Starlette(routes=[route for route in BASE if route.name != "create_item"])
hosted = Starlette(routes=[Host("api.example.com", app=Router(routes=BASE[:1]))])
not_an_app = {"routes": []}
"""

APP_ROWS = [
    ("GET", "/admin/stats"),
    ("HEAD", "/admin/stats"),
    ("WS", "/chat"),
    ("GET", "/items"),
    ("HEAD", "/items"),
    ("POST", "/items"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory holding the apps, a module that fails to import, and nothing else."""
    (tmp_path / "routes_app.py").write_text(textwrap.dedent(APPS), encoding="utf-8")
    (tmp_path / "broken_app.py").write_text(
        'raise RuntimeError("DATABASE_URL is not set")\n', encoding="utf-8"
    )
    return tmp_path


SCRIPT = Path(sys.executable).with_name("mintaka-routes")
ENTRY_POINTS = {
    "python -m mintaka.introspect": [sys.executable, "-m", "mintaka.introspect"],
    "mintaka-routes": [str(SCRIPT)],
}


def spawn(entry: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command through `entry` as a child process."""
    return subprocess.run(
        [*ENTRY_POINTS[entry], *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def run(cwd: Path, *args: str) -> Completed:
    """Run the command in this process."""
    return run_main(main, *args, cwd=cwd)


def table_rows(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    assert set(lines[1].replace(" ", "")) == {"-"}, "the header is underlined"
    return [line.split() for line in lines[2:]]


def test_the_console_script_is_installed_next_to_python() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} is missing: is mintaka-introspect installed?"


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_each_entry_point_prints_the_table_or_exits_2_with_the_reason(
    project: Path, entry: str
) -> None:
    listed = spawn(entry, project, "routes_app:app")
    missing = spawn(entry, project, "no_such_module:app")

    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    assert [(cells[0], cells[1]) for cells in table_rows(listed.stdout)] == APP_ROWS
    assert_error(missing, "cannot import module 'no_such_module'", "--app-dir")


def test_the_table_lists_every_route_in_aligned_columns(project: Path) -> None:
    result = run(project, "routes_app:app")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0]
    assert header.split() == ["Method", "Path", "Name", "Endpoint", "Kind", "Schema"]
    for column in ("Path", "Name", "Endpoint", "Kind", "Schema"):
        start = header.index(column)
        for line in lines[2:]:
            assert line[start - 2 : start] == "  ", (column, line)
            assert line[start] != " ", (column, line)
    assert [(cells[0], cells[1]) for cells in table_rows(result.stdout)] == APP_ROWS
    assert table_rows(result.stdout)[5] == [
        "POST", "/items", "create_item", "create_item", "http", "yes"
    ]  # fmt: skip


def test_a_host_column_appears_when_a_route_is_served_under_a_host(project: Path) -> None:
    result = run(project, "routes_app:hosted", "--no-implicit-head")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["Method", "Host", "Path"]
    assert table_rows(result.stdout)[0][:3] == ["GET", "api.example.com", "/items"]


@pytest.mark.parametrize(
    ("key", "column", "expected"),
    [
        ("path", 1, ["/admin/stats", "/admin/stats", "/chat", "/items", "/items", "/items"]),
        ("method", 0, ["GET", "GET", "HEAD", "HEAD", "POST", "WS"]),
        (
            "name",
            2,
            ["admin_stats", "admin_stats", "chat", "create_item", "list_items", "list_items"],
        ),
    ],
)
def test_sort_orders_the_table_by_the_chosen_column(
    project: Path, key: str, column: int, expected: list[str]
) -> None:
    result = run(project, "routes_app:app", "--sort", key)

    assert result.returncode == 0, result.stderr
    assert [cells[column] for cells in table_rows(result.stdout)] == expected


def test_the_flags_leave_out_implicit_head_and_websockets(project: Path) -> None:
    result = run(project, "routes_app:app", "--no-implicit-head", "--no-websockets")

    assert result.returncode == 0, result.stderr
    assert [(cells[0], cells[1]) for cells in table_rows(result.stdout)] == [
        ("GET", "/admin/stats"),
        ("GET", "/items"),
        ("POST", "/items"),
    ]


def test_json_output_is_the_snapshot_format_for_tools(project: Path) -> None:
    result = run(project, "routes_app:app", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert [(r["method"], r["path"]) for r in data["routes"]] == APP_ROWS
    assert data["routes"][2] == {
        "method": "WS",
        "path": "/chat",
        "host": None,
        "name": "chat",
        "endpoint": "routes_app.chat",
        "kind": "websocket",
        "include_in_schema": False,
    }


def test_write_then_check_the_same_app_exits_0(project: Path) -> None:
    written = run(project, "routes_app:app", "--write", "api-routes.json")
    checked = run(project, "routes_app:app", "--check", "api-routes.json")

    assert written.returncode == 0, written.stderr
    assert "Wrote 6 routes" in written.stdout
    assert json.loads((project / "api-routes.json").read_text())["routes"]
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "match api-routes.json (6 routes)" in checked.stdout


def test_check_shows_added_and_removed_routes_and_exits_1(project: Path) -> None:
    assert run(project, "routes_app:shrunk", "--write", "api-routes.json").returncode == 0

    result = run(project, "routes_app:grown", "--check", "api-routes.json")

    assert result.returncode == 1, result.stderr
    assert "differ from api-routes.json: 2 routes added, 0 removed" in result.stdout
    diff = [line.split()[:3] for line in result.stdout.splitlines() if line.startswith(("+", "-"))]
    assert diff == [["+", "POST", "/items"], ["+", "DELETE", "/items/{item_id:int}"]]
    assert "mintaka-routes routes_app:grown --write api-routes.json" in result.stdout

    result = run(project, "routes_app:shrunk", "--check", "api-routes.json", "--sort", "name")
    assert result.returncode == 0, "--sort does not change what --check compares"

    assert run(project, "routes_app:grown", "--write", "api-routes.json").returncode == 0
    result = run(project, "routes_app:shrunk", "--check", "api-routes.json")
    assert result.returncode == 1
    assert "0 routes added, 2 removed" in result.stdout
    diff = [line.split()[:3] for line in result.stdout.splitlines() if line.startswith(("+", "-"))]
    assert diff == [["-", "POST", "/items"], ["-", "DELETE", "/items/{item_id:int}"]]


def assert_error(result: Completed | subprocess.CompletedProcess[str], *messages: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("mintaka-routes: error: "), result.stderr
    for message in messages:
        assert message in result.stderr, result.stderr


def test_a_module_that_cannot_be_found_exits_2_saying_where_to_run(project: Path) -> None:
    result = run(project, "no_such_module:app")

    assert_error(result, "cannot import module 'no_such_module'", "--app-dir")


def test_a_module_that_raises_on_import_exits_2_with_its_traceback(project: Path) -> None:
    result = run(project, "broken_app:app")

    assert_error(
        result,
        "importing module 'broken_app' raised an error",
        'broken_app.py", line 1, in <module>',
        "RuntimeError: DATABASE_URL is not set",
    )
    assert "importlib" not in result.stderr, "the traceback starts in the user's module"


def test_app_dir_makes_a_module_importable_from_elsewhere(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    assert run(elsewhere, "routes_app:app").returncode == 2
    result = run(elsewhere, "routes_app:app", "--app-dir", str(project))
    assert result.returncode == 0, result.stderr


def test_a_missing_attribute_exits_2_naming_the_apps_the_module_has(project: Path) -> None:
    result = run(project, "routes_app:missing")

    assert_error(
        result,
        "'routes_app' has no attribute 'missing'",
        "Apps in 'routes_app': app, grown, hosted, shrunk.",
    )


def test_an_attribute_that_is_not_an_asgi_app_exits_2(project: Path) -> None:
    result = run(project, "routes_app:not_an_app")

    assert_error(result, "'routes_app:not_an_app' is builtins.dict, not an ASGI app with routes")


def test_an_argument_that_is_not_module_colon_attr_exits_2(project: Path) -> None:
    result = run(project, "routes_app")

    assert_error(result, "write MODULE:ATTR, for example myproject.main:app")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"routes": []}', "is not a mintaka-routes snapshot"),
        ('{"format": "mintaka-routes", "version": 1, "routes": [{}]}', "route 1 lacks the field"),
    ],
)
def test_a_snapshot_that_does_not_parse_exits_2(project: Path, content: str, message: str) -> None:
    (project / "api-routes.json").write_text(content, encoding="utf-8")

    result = run(project, "routes_app:app", "--check", "api-routes.json")

    assert_error(result, "snapshot file 'api-routes.json'", message)


def test_a_missing_snapshot_exits_2_saying_how_to_write_it(project: Path) -> None:
    result = run(project, "routes_app:app", "--check", "api-routes.json")

    assert_error(result, "does not exist", "--write api-routes.json")


def test_output_modes_cannot_be_combined(project: Path) -> None:
    result = run(project, "routes_app:app", "--json", "--check", "api-routes.json")

    assert result.returncode == 2
    assert "--write and --check print none" in result.stderr


def test_version_prints_the_installed_version(project: Path) -> None:
    from importlib.metadata import version

    result = run(project, "--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"mintaka-routes {version('mintaka-introspect')}"


def test_the_audit_of_a_starlette_app_lists_its_routes_and_passes_strict(project: Path) -> None:
    result = run(project, "routes_app:app", "--audit", "--strict")

    assert result.returncode == 0, result.stderr
    assert "GET, HEAD /items  (routes_app.list_items; not a FastAPI route" in result.stdout
    assert "Findings: 0 errors, 0 warnings." in result.stdout


TWO_READS = {
    "shop_books.py": "async def read(request):\n    ...\n",
    "shop_films.py": "async def read(request):\n    ...\n",
    "shop_main.py": """
from starlette.applications import Starlette
from starlette.routing import Route

import shop_books
import shop_films


async def index(request):
    ...


app = Starlette(
    routes=[
        Route("/", index),
        Route("/books", shop_books.read, methods=["GET"]),
        Route("/films", shop_films.read, methods=["GET"]),
    ]
)
""",
}


def test_the_table_names_endpoints_without_their_module_unless_two_share_a_name(
    tmp_path: Path,
) -> None:
    for name, source in TWO_READS.items():
        (tmp_path / name).write_text(textwrap.dedent(source), encoding="utf-8")

    table = run(tmp_path, "shop_main:app", "--no-implicit-head")
    as_json = run(tmp_path, "shop_main:app", "--no-implicit-head", "--json")

    assert table.returncode == 0, table.stderr
    assert [(cells[1], cells[3]) for cells in table_rows(table.stdout)] == [
        ("/", "index"),
        ("/books", "shop_books.read"),
        ("/films", "shop_films.read"),
    ]
    endpoints = [route["endpoint"] for route in json.loads(as_json.stdout)["routes"]]
    assert endpoints == ["shop_main.index", "shop_books.read", "shop_films.read"]
