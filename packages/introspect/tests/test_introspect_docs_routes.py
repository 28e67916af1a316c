"""FastAPI's documentation routes: recognised through the app, hidden by the command.

`route_table(app)` lists every route, as it always did; `include_docs_routes=False`
leaves out the routes FastAPI serves its documentation at, found through the app's own
`openapi_url`, `docs_url`, `swagger_ui_oauth2_redirect_url` and `redoc_url`. The command
leaves them out by default, and `--check` still compares them with a snapshot that lists
them, such as one written before they were hidden.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the documentation routes are FastAPI's")

from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from mintaka.introspect import route_table
from mintaka.introspect._cli import main
from testing.cli import Completed, run_main

DOCS = ["/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"]


async def read_items() -> list[str]:
    return []


def paths(app: FastAPI, *, include_docs_routes: bool) -> list[str]:
    rows = route_table(app, include_docs_routes=include_docs_routes, include_implicit_head=False)
    return [row.path for row in rows]


def test_the_default_documentation_routes_are_listed_unless_left_out() -> None:
    app = FastAPI()
    app.add_api_route("/items", read_items)

    assert paths(app, include_docs_routes=True) == sorted(["/items", *DOCS])
    assert paths(app, include_docs_routes=False) == ["/items"]


def test_they_are_found_at_the_urls_the_app_was_given() -> None:
    app = FastAPI(
        openapi_url="/api/schema.json",
        docs_url="/api/swagger",
        swagger_ui_oauth2_redirect_url="/api/swagger/callback",
        redoc_url=None,
    )
    app.add_api_route("/items", read_items)
    # The user's own routes at the usual paths are not FastAPI's documentation.
    app.add_api_route("/docs", read_items)
    app.add_route("/redoc", lambda request: PlainTextResponse("mine"))

    assert paths(app, include_docs_routes=True) == [
        "/api/schema.json",
        "/api/swagger",
        "/api/swagger/callback",
        "/docs",
        "/items",
        "/redoc",
    ]
    assert paths(app, include_docs_routes=False) == ["/docs", "/items", "/redoc"]


def test_without_a_schema_fastapi_serves_no_documentation_and_nothing_is_left_out() -> None:
    app = FastAPI(openapi_url=None)
    app.add_api_route("/docs", read_items)

    assert paths(app, include_docs_routes=False) == ["/docs"]


def test_a_mounted_fastapi_apps_documentation_is_left_out_too() -> None:
    sub = FastAPI(docs_url="/manual")
    sub.add_api_route("/items", read_items)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/v1", sub)

    assert paths(app, include_docs_routes=True) == [
        "/v1/docs/oauth2-redirect",
        "/v1/items",
        "/v1/manual",
        "/v1/openapi.json",
        "/v1/redoc",
    ]
    assert paths(app, include_docs_routes=False) == ["/v1/items"]


def test_a_list_of_routes_has_no_app_to_ask_so_nothing_is_left_out() -> None:
    app = FastAPI()
    app.add_api_route("/items", read_items)

    rows = route_table(app.router.routes, include_docs_routes=False, include_implicit_head=False)

    assert [row.path for row in rows] == sorted(["/items", *DOCS])


# -- the command ------------------------------------------------------------------------

SHOP = """
from fastapi import FastAPI

app = FastAPI()
bare = FastAPI()


@app.get("/items")
async def read_items() -> list[str]:
    return []


@app.post("/items")
async def create_item() -> str:
    return "created"
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "docs_shop.py").write_text(textwrap.dedent(SHOP), encoding="utf-8")
    return tmp_path


def mintaka_routes(cwd: Path, *args: str) -> Completed:
    return run_main(main, *args, cwd=cwd)


@pytest.mark.once
def test_the_listing_leaves_them_out_and_says_so(shop: Path) -> None:
    listed = mintaka_routes(shop, "docs_shop:app")
    every = mintaka_routes(shop, "docs_shop:app", "--include-docs-routes")
    as_json = mintaka_routes(shop, "docs_shop:app", "--json")
    bare = mintaka_routes(shop, "docs_shop:bare")

    assert listed.returncode == every.returncode == as_json.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[:2] for line in lines[2:4]] == [["GET", "/items"], ["POST", "/items"]]
    assert lines[4:] == [
        "",
        "Not listed: FastAPI's documentation routes (/docs, /docs/oauth2-redirect, "
        "/openapi.json, /redoc; --include-docs-routes lists them).",
    ]
    assert {line.split()[1] for line in every.stdout.splitlines()[2:]} == {"/items", *DOCS}
    assert "Not listed" not in every.stdout
    assert [route["path"] for route in json.loads(as_json.stdout)["routes"]] == ["/items"] * 2
    assert bare.stdout == (
        "docs_shop:bare serves no routes other than FastAPI's documentation routes "
        "(/docs, /docs/oauth2-redirect, /openapi.json, /redoc; --include-docs-routes lists "
        "them).\n"
    )


@pytest.mark.once
def test_a_snapshot_is_checked_with_them_exactly_when_it_lists_them(shop: Path) -> None:
    without = mintaka_routes(shop, "docs_shop:app", "--write", "new.json")
    # What mintaka-routes wrote before it left them out: the same as this.
    every = ("docs_shop:app", "--include-docs-routes")
    with_docs = mintaka_routes(shop, *every, "--write", "old.json")

    assert "Wrote 2 routes of docs_shop:app to new.json, without FastAPI's documentation" in (
        without.stdout
    )
    assert "Wrote 10 routes" in with_docs.stdout  # each documentation route: GET and HEAD
    assert mintaka_routes(shop, "docs_shop:app", "--check", "new.json").returncode == 0
    old = mintaka_routes(shop, "docs_shop:app", "--check", "old.json")
    assert old.returncode == 0, old.stdout
    assert "match old.json (10 routes)" in old.stdout

    (shop / "docs_shop.py").write_text(
        textwrap.dedent(SHOP).replace("app = FastAPI()", "app = FastAPI(redoc_url=None)")
    )
    changed = mintaka_routes(shop, "docs_shop:app", "--check", "old.json")
    unchanged = mintaka_routes(shop, "docs_shop:app", "--check", "new.json")
    forced = mintaka_routes(shop, "docs_shop:app", "--check", "new.json", "--include-docs-routes")

    assert changed.returncode == 1
    assert "0 routes added, 2 removed" in changed.stdout  # GET and HEAD /redoc
    assert "--write old.json --include-docs-routes" in changed.stdout
    assert unchanged.returncode == 0, unchanged.stdout
    assert forced.returncode == 1
    assert "6 routes added, 0 removed" in forced.stdout  # /redoc is gone now


@pytest.mark.once
def test_the_audit_leaves_them_out_unless_asked(shop: Path) -> None:
    audited = mintaka_routes(shop, "docs_shop:app", "--audit", "--json")
    every = mintaka_routes(shop, "docs_shop:app", "--audit", "--json", "--include-docs-routes")

    assert [r["route"] for r in json.loads(audited.stdout)["routes"]] == [
        "GET /items",
        "POST /items",
    ]
    assert [r["route"] for r in json.loads(every.stdout)["routes"]] == [
        "GET, HEAD /docs",
        "GET, HEAD /docs/oauth2-redirect",
        "GET /items",
        "POST /items",
        "GET, HEAD /openapi.json",
        "GET, HEAD /redoc",
    ]
