"""Edge cases of the optional FastAPI columns: empty cells, flags, tags and union models.

The command is run in-process through `testing.cli.run_main`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Optional

import pytest

pytest.importorskip("fastapi", reason="the optional columns describe FastAPI routes")

from fastapi import FastAPI
from pydantic import BaseModel

from mintaka.introspect import route_table
from mintaka.introspect._cli import main
from testing.cli import run_main

SHOP = """
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.routing import Route

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/items", tags=["shop"], deprecated=True)
async def list_items():
    return []


@app.get("/health")
async def health():
    return "ok"


async def legacy(request):
    return PlainTextResponse("legacy")


app.router.routes.append(Route("/legacy", legacy, methods=["GET"]))
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "edge_shop.py").write_text(textwrap.dedent(SHOP), encoding="utf-8")
    return tmp_path


def test_the_table_shows_flags_tags_and_dashes_for_what_a_route_does_not_declare(
    shop: Path,
) -> None:
    argv = ["edge_shop:app", "--app-dir", str(shop), "--with", "tags,deprecated,status"]

    done = run_main(main, *argv, "--no-implicit-head", cwd=shop)
    status, out, err = done.returncode, done.stdout, done.stderr

    assert (status, err) == (0, "")
    header, _, *rows = (line.split() for line in out.splitlines())
    assert header[-3:] == ["Status", "Deprecated", "Tags"]
    by_path = {row[1]: row[-3:] for row in rows}
    assert by_path == {
        # A FastAPI route that declares nothing: no status code, not deprecated, no tags.
        "/health": ["-", "no", "-"],
        "/items": ["-", "yes", "shop"],
        # A plain Starlette route has none of the FastAPI columns.
        "/legacy": ["-", "-", "-"],
    }


class Item(BaseModel):
    id: int


def test_an_optional_response_model_is_named_as_a_union_with_none() -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/items/{item_id}", response_model=Item | None)
    async def read_item(item_id: int) -> object:
        return None

    @app.get("/legacy/{item_id}", response_model=Optional[Item])  # noqa: UP045 - as old apps write it
    async def read_legacy(item_id: int) -> object:
        return None

    models = {row.path: row.response_model for row in route_table(app, columns=["model"])}

    assert models == {"/items/{item_id}": "Item | None", "/legacy/{item_id}": "Item | None"}
