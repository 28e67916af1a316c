"""Edge cases a user can hit without FastAPI: bad snapshots, odd apps, the command's errors.

Nothing here imports FastAPI, so the file runs in the FastAPI-free environment too. The
command is run in-process through `testing.cli.run_main`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mintaka.introspect import (
    SnapshotError,
    audit_dependencies,
    diff_route_tables,
    dump_snapshot,
    read_snapshot,
    route_table,
)
from mintaka.introspect._cli import main
from testing.cli import run_main

APPS = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute


async def page(request):
    return PlainTextResponse("page")


async def chat(websocket):
    await websocket.close()


app = Starlette(routes=[Route("/page", page, name="page")])
empty = Starlette()
sockets_only = Starlette(routes=[WebSocketRoute("/chat", chat)])
"""


async def page(request: Request) -> Response:
    return PlainTextResponse("page")


class Project:
    """A directory with app modules, and the command run on it in this process."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def module(self, name: str, source: str) -> None:
        (self.root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")

    def run(self, *argv: str) -> tuple[int, str, str]:
        done = run_main(main, *argv, "--app-dir", str(self.root), cwd=self.root)
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    project.module("edge_apps", APPS)
    return project


# -- the command ----------------------------------------------------------------------


def test_an_app_without_routes_is_said_to_serve_none(project: Project) -> None:
    status, out, err = project.run("edge_apps:empty")

    assert (status, err) == (0, "")
    assert out == "edge_apps:empty serves no routes.\n"


def test_writing_a_snapshot_where_no_file_can_be_written_exits_2(project: Project) -> None:
    target = project.root / "no-such-dir" / "api.json"

    status, out, err = project.run("edge_apps:app", "--write", str(target))

    assert (status, out) == (2, "")
    assert err.startswith(f"mintaka-routes: error: cannot write snapshot file {str(target)!r}: ")
    assert "No such file or directory" in err
    assert not target.parent.exists()


def test_an_app_module_whose_own_import_is_missing_shows_the_traceback(project: Project) -> None:
    project.module("needs_missing", "import mintaka_edge_not_installed_anywhere\napp = None\n")

    status, out, err = project.run("needs_missing:app")

    assert (status, out) == (2, "")
    # Not "run from the right directory": the module was found, what it imports was not.
    assert "importing module 'needs_missing' raised an error:" in err
    assert "--app-dir" not in err
    assert "needs_missing.py" in err
    assert "No module named 'mintaka_edge_not_installed_anywhere'" in err.splitlines()[-1]


def test_the_audit_of_an_app_without_http_routes_says_so(project: Project) -> None:
    status, out, _ = project.run("edge_apps:sockets_only", "--audit")

    assert status == 0
    assert "The app serves no HTTP routes." in out.split("\n\n")
    assert out.rstrip().endswith("Findings: 0 errors, 0 warnings.")


def test_the_markdown_audit_without_findings_says_there_are_none(project: Project) -> None:
    status, out, _ = project.run("edge_apps:app", "--audit", "--format", "markdown")

    assert status == 0
    blocks = out.rstrip("\n").split("\n\n")
    assert blocks[0].startswith("### When each dependency closes (")
    assert "**Findings: 0 errors, 0 warnings.**" in blocks
    assert blocks[-2:] == [
        "#### `GET, HEAD /page`",
        "(edge_apps.page; not a FastAPI route, no dependencies)",
    ]


# -- the Python API -------------------------------------------------------------------


class Wrapper:
    """ASGI middleware: keeps the app it wraps as `.app`, and has no routes of its own."""

    def __init__(self, app: ASGIApp | None = None) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


def test_a_cycle_of_wrappers_is_refused_instead_of_followed_for_ever() -> None:
    outer = Wrapper()
    outer.app = Wrapper(outer)

    with pytest.raises(TypeError, match="expected a list of routes"):
        route_table(outer)
    with pytest.raises(TypeError, match="expected a list of routes"):
        audit_dependencies(outer)


def test_auditing_something_that_is_not_an_app_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^expected a list of routes, .* got 42$"):
        audit_dependencies(42)  # type: ignore[arg-type]


def test_an_environment_that_blocks_fastapi_gets_the_fastapi_free_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `sys.modules["fastapi"] = None` is how a test suite hides an optional dependency:
    # "fastapi" is a key of sys.modules, yet importing it fails.
    monkeypatch.setitem(sys.modules, "fastapi", None)

    audit = audit_dependencies(Starlette(routes=[Route("/page", page)]))

    assert audit.fastapi_version is None
    assert [(r.route, r.fastapi) for r in audit.routes] == [("GET, HEAD /page", False)]
    (note,) = audit.notes
    assert note.startswith("FastAPI is not installed")


# -- snapshots and diffs --------------------------------------------------------------


def snapshot_file(tmp_path: Path, data: object) -> Path:
    file = tmp_path / "api.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    return file


@pytest.mark.parametrize("columns", [None, "status", [1, 2]])
def test_a_version_2_snapshot_without_a_list_of_column_names_is_refused(
    tmp_path: Path, columns: object
) -> None:
    data: dict[str, object] = {"format": "mintaka-routes", "version": 2, "routes": []}
    if columns is not None:
        data["columns"] = columns
    file = snapshot_file(tmp_path, data)

    with pytest.raises(SnapshotError, match='has no "columns" list of names; write it again'):
        read_snapshot(file)


def test_a_snapshot_recording_an_unknown_column_is_refused_naming_it(tmp_path: Path) -> None:
    data = {"format": "mintaka-routes", "version": 2, "columns": ["status", "colour"]}
    file = snapshot_file(tmp_path, {**data, "routes": []})

    with pytest.raises(SnapshotError) as raised:
        read_snapshot(file)

    message = str(raised.value)
    assert message.startswith(f"snapshot file {str(file)!r}: unknown column(s) 'colour'")
    assert "choose from status, model, deprecated, tags, operation_id" in message
    assert message.endswith("write it again with `mintaka-routes MODULE:APP --write FILE`")


def test_a_snapshot_path_that_is_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"^snapshot file .* cannot be read: .*Is a directory"):
        read_snapshot(tmp_path)


def test_a_snapshot_that_is_not_utf8_cannot_be_read(tmp_path: Path) -> None:
    file = tmp_path / "api.json"
    file.write_bytes(dump_snapshot([]).encode("utf-16"))

    with pytest.raises(SnapshotError, match=r"cannot be read: 'utf-8' codec can't decode"):
        read_snapshot(file)


def test_a_changed_hosted_route_names_its_host_and_shows_missing_values_plainly() -> None:
    app = Starlette(routes=[Host("api.example.com", app=Router(routes=[Route("/page", page)]))])
    get, head = route_table(app)
    # As a snapshot with the optional columns records them for a route that declares none.
    before = dataclasses.replace(get, status_code=None, tags=())
    after = dataclasses.replace(get, status_code=203, tags=("pages", "public"))

    diff = diff_route_tables([before, head], [after, head])

    (change,) = diff.changed
    assert change.describe() == (
        "GET /page (host api.example.com): status code none → 203; tags no tags → pages, public"
    )
    assert (diff.added, diff.removed) == ((), ())
