"""The optional FastAPI columns: listed, saved, read back, diffed by name; old snapshots read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("fastapi", reason="the optional columns describe FastAPI routes")

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from mintaka.introspect import diff_route_tables, dump_snapshot, read_snapshot, route_table
from mintaka.introspect._cli import main
from testing.cli import Completed, run_main

if TYPE_CHECKING:
    from mintaka.introspect._columns import Column

ALL: list[Column] = ["status", "model", "deprecated", "tags", "operation_id"]
NO_DOCS = "^/(docs|redoc|openapi)"

# A snapshot as mintaka-introspect wrote it before the optional columns existed.
VERSION_1 = """{
  "format": "mintaka-routes",
  "version": 1,
  "routes": [
    {"method": "GET", "path": "/items/{item_id}", "host": null, "name": "read_item", "endpoint": "shop.read_item", "kind": "http", "include_in_schema": true}
  ]
}
"""  # noqa: E501 - one route per line, as written


class Item(BaseModel):
    id: int


class ItemV2(BaseModel):
    id: int
    name: str


def build_app(model: Any = Item, *, status_code: int = 200, deprecated: bool = False) -> FastAPI:
    router = APIRouter(prefix="/items", tags=["items"])

    @router.get(
        "/{item_id}",
        response_model=model,
        status_code=status_code,
        deprecated=deprecated,
        operation_id="readItem",
    )
    async def read_item(item_id: int) -> Any:
        return {"id": item_id}

    async def health() -> str:
        return "ok"

    app = FastAPI()
    app.include_router(router, tags=["shop"])
    app.add_api_route("/health", health, include_in_schema=False)
    return app


def test_the_columns_fill_in_what_each_fastapi_route_declares() -> None:
    app = build_app(list[Item], status_code=201)
    rows = route_table(app, columns=ALL, exclude="^/(docs|redoc|openapi|health)")

    (row,) = rows
    assert (row.status_code, row.response_model, row.deprecated, row.operation_id) == (
        201,
        "list[Item]",
        False,
        "readItem",
    )
    assert row.tags == ("shop", "items")


def test_without_columns_rows_are_as_before() -> None:
    (row,) = route_table(build_app(), exclude="^/(docs|redoc|openapi|health)")

    assert (row.status_code, row.response_model, row.tags) == (None, None, None)


def test_exclude_leaves_out_the_docs_family_and_health_checks() -> None:
    paths = {row.path for row in route_table(build_app(), exclude=r"^/(docs|redoc|openapi|health)")}
    every = {row.path for row in route_table(build_app())}

    assert paths == {"/items/{item_id}"}
    assert {"/docs", "/openapi.json", "/health"} <= every


def test_a_snapshot_with_columns_reads_back_and_the_diff_names_each_change(tmp_path: Path) -> None:
    file = tmp_path / "api.json"
    before = route_table(build_app(), columns=ALL)
    file.write_text(dump_snapshot(before, columns=ALL), encoding="utf-8")
    after = route_table(build_app(ItemV2, status_code=202, deprecated=True), columns=ALL)

    assert json.loads(file.read_text())["columns"] == ALL
    assert read_snapshot(file) == before
    diff = diff_route_tables(read_snapshot(file), after)
    assert (diff.added, diff.removed) == ((), ())
    (change,) = diff.changed
    assert change.describe() == (
        "GET /items/{item_id}: status code 200 → 202; response model Item → ItemV2; "
        "deprecated no → yes"
    )
    assert "Changed:\n  GET /items/{item_id}: status code 200 → 202" in diff.format()


def test_a_snapshot_written_before_the_columns_still_reads_and_is_written_the_same(
    tmp_path: Path,
) -> None:
    file = tmp_path / "old.json"
    file.write_text(VERSION_1, encoding="utf-8")

    rows = read_snapshot(file)

    assert [(r.method, r.path, r.name, r.status_code) for r in rows] == [
        ("GET", "/items/{item_id}", "read_item", None)
    ]
    assert dump_snapshot(rows) == VERSION_1


def mintaka_routes(cwd: Path, *args: str) -> Completed:
    """The command, run in this process from `cwd`."""
    return run_main(main, *args, cwd=cwd)


SHOP = """
from fastapi import FastAPI
from pydantic import BaseModel

class Item(BaseModel):
    id: int

class ItemV2(BaseModel):
    id: int
    name: str

app = FastAPI()
{decorator}
async def read_item(item_id: int):
    return {{"id": item_id}}
"""


@pytest.mark.once
def test_the_command_checks_with_the_snapshots_columns_and_names_the_change(
    tmp_path: Path,
) -> None:
    shop = tmp_path / "shop.py"
    shop.write_text(SHOP.format(decorator='@app.get("/items/{item_id}", response_model=Item)'))
    wrote = mintaka_routes(
        tmp_path, "shop:app", "--with", "model,status", "--exclude", NO_DOCS, "--write", "api.json"
    )
    shop.write_text(SHOP.format(decorator='@app.get("/items/{item_id}", response_model=ItemV2)'))

    checked = mintaka_routes(tmp_path, "shop:app", "--exclude", NO_DOCS, "--check", "api.json")
    other_columns = mintaka_routes(tmp_path, "shop:app", "--with", "tags", "--check", "api.json")

    assert wrote.returncode == 0, wrote.stderr
    assert checked.returncode == 1, checked.stderr
    assert "GET /items/{item_id}: response model Item → ItemV2" in checked.stdout
    assert "--write api.json --with status,model" in checked.stdout
    assert other_columns.returncode == 2
    assert "records the optional columns status,model" in other_columns.stderr


@pytest.mark.once
def test_the_command_prints_columns_as_a_table_and_as_markdown(tmp_path: Path) -> None:
    decorator = '@app.get("/items/{item_id}", response_model=Item, status_code=203)'
    (tmp_path / "shop.py").write_text(SHOP.format(decorator=decorator))
    args = ("shop:app", "--with", "status,model", "--exclude", NO_DOCS)

    table = mintaka_routes(tmp_path, *args)
    markdown = mintaka_routes(tmp_path, *args, "--format", "markdown")

    assert table.stdout.splitlines()[0].split() == [
        "Method", "Path", "Name", "Endpoint", "Kind", "Schema", "Status", "Model"
    ]  # fmt: skip
    assert table.stdout.splitlines()[2].split()[-2:] == ["203", "Item"]
    assert markdown.stdout.splitlines() == [
        "| Method | Path | Name | Endpoint | Kind | Schema | Status | Model |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        "| GET | `/items/{item_id}` | read_item | read_item | http | yes | 203 | Item |",
    ]
