"""Every example file the documentation includes runs, and does what its page says."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from packaging.version import Version

from tests.docs._console import EXAMPLES, import_file

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from types import ModuleType


@asynccontextmanager
async def client_of(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``app``, inside the app's lifespan (startup and shutdown run)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://docs") as client,
    ):
        yield client


def load(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """Import the example at ``path`` fresh, from ``tmp_path`` (its SQLite files land there).

    The example's own folder is importable, as when it is run from that folder.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(path.parent))
    for name in [n for n in sys.modules if n in {"notes_db", path.stem}]:
        monkeypatch.delitem(sys.modules, name)
    name = f"docs_example_{path.stem}"
    monkeypatch.delitem(sys.modules, name, raising=False)
    return import_file(path, name)


# Examples written for a newer FastAPI than the oldest the matrix runs.
NEEDS_FASTAPI = {EXAMPLES / "getting_started" / "plain.py": "0.121"}


def _too_old_for(path: Path) -> bool:
    needed = NEEDS_FASTAPI.get(path)
    return needed is not None and Version(importlib.metadata.version("fastapi")) < Version(needed)


def every_example() -> list[Any]:
    return [
        pytest.param(
            path,
            marks=pytest.mark.skipif(
                _too_old_for(path),
                reason=f"it uses Depends(scope=...), new in FastAPI {NEEDS_FASTAPI.get(path)}",
            ),
        )
        for path in sorted(EXAMPLES.rglob("*.py"))
    ]


@pytest.mark.parametrize("path", every_example(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_example_imports(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    module = load(path, monkeypatch, tmp_path)

    assert module.__file__ == str(path)
    own = [v for v in vars(module).values() if getattr(v, "__module__", None) == module.__name__]
    assert own, f"{path} defines no function or class of its own: nothing a reader could run"


Example = Callable[[str], Any]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Example:
    """Import ``docs/examples/RELATIVE`` fresh, from this test's own folder."""
    return lambda relative: load(EXAMPLES / relative, monkeypatch, tmp_path)


pytestmark = pytest.mark.anyio


async def test_home_page_example_commits_and_refuses_a_failed_commit(example: Example) -> None:
    home = example("home/app.py")
    async with home.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE accounts (name TEXT PRIMARY KEY)")
    async with client_of(home.app) as client:
        assert (await client.post("/accounts/ada")).status_code == 201
        # The duplicate fails at commit, before the response: a 500, never a 201.
        assert (await client.post("/accounts/ada")).status_code == 500
    await home.engine.dispose()


async def test_core_readme_examples_answer_after_the_session_closed(example: Example) -> None:
    fastapi_app = example("core/fastapi_app.py")
    async with client_of(fastapi_app.app) as client:
        assert (await client.post("/notes")).json() == {"status": "created"}
    await fastapi_app.engine.dispose()
    starlette_app = example("core/starlette_app.py")
    async with client_of(starlette_app.app) as client:
        assert (await client.post("/notes")).status_code == 201
    await starlette_app.engine.dispose()


async def assert_a_failed_commit_is_never_a_201(client: httpx.AsyncClient) -> None:
    """``POST /notes`` commits before its 201; a duplicate text fails at commit: a 500."""
    created = await client.post("/notes", json={"text": "hello"})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "text": "hello"}
    # the text column is unique: the commit fails, and the client is not told 201
    assert (await client.post("/notes", json={"text": "hello"})).status_code == 500


async def test_response_scope_guide_fastapi_example_commits_before_201(example: Example) -> None:
    notes = example("response_scope/fastapi_notes.py")
    async with client_of(notes.app) as client:
        await assert_a_failed_commit_is_never_a_201(client)


async def test_response_scope_guide_starlette_example(example: Example) -> None:
    notes = example("response_scope/starlette_notes.py")
    async with client_of(notes.app) as client:
        assert (await client.post("/notes", json={"text": "a"})).status_code == 201
        assert (await client.post("/notes", json={"text": "b"})).json() == {"id": 2}
        assert (await client.get("/notes")).json() == ["a", "b"]


async def test_response_scope_guide_class_endpoint_and_adapter(example: Example) -> None:
    notes = example("response_scope/endpoint_notes.py")
    async with client_of(notes.app) as client:
        assert (await client.post("/notes", json={"text": "a"})).json() == {"id": 1}
        assert (await client.post("/adapted", json={"text": "b"})).json() == {"id": 2}


async def test_response_scope_guide_headers_example_times_the_commit(example: Example) -> None:
    timed = example("response_scope/commit_time.py")
    async with client_of(timed.app) as client:
        created = await client.post("/notes", json={"text": "a"})
    name, _, duration = created.headers["server-timing"].partition(";dur=")
    assert (created.status_code, name) == (201, "app")
    assert float(duration) > 0


async def test_response_scope_guide_streaming_example_has_its_own_session(example: Example) -> None:
    export = example("response_scope/export.py")
    async with client_of(export.app) as client:
        async with export.sessionmaker.begin() as session:
            session.add_all([export.Note(text="first"), export.Note(text="second")])
        assert (await client.get("/export")).text == "first\nsecond\n"


async def test_router_guide_examples(example: Example) -> None:
    items = example("router/items.py")
    async with client_of(items.app) as client:
        assert (await client.get("/items/3")).json() == {"name": "item 3"}
        reset = await client.post("/items/3/reset")
        assert reset.status_code == 205
        assert reset.content == b""
        assert reset.headers["content-length"] == "0"
    timed = example("router/timed_route.py")
    async with client_of(timed.app) as client:
        response = await client.get("/ping")
        assert response.json() == {"ping": "pong"}
        assert response.headers["server-timing"].startswith("app;dur=")


async def test_migrating_from_prefect_example(example: Example) -> None:
    server = example("prefect/server.py")
    assert {"POST /flows/", "DELETE /flows/{name}"} <= server.ROUTES
    async with client_of(server.app) as client:
        created = await client.post("/flows/", json={"name": "etl"})
        assert created.status_code == 201
        assert created.json() == {"name": "etl"}
        deleted = await client.delete("/flows/etl")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert "content-type" not in deleted.headers
    assert server.events == ["committed", "deleted etl"]


async def test_depends_guide_audit_log_flushes_with_the_request(example: Example) -> None:
    audit = example("depends/audit_log.py")
    async with client_of(audit.app) as client:
        created = await client.post("/notes/hello", headers={"x-user": "ada"})
        assert created.status_code == 201
        assert created.json() == {"text": "hello"}
    assert audit.audit_trail == ["ada: created hello"]


async def test_depends_guide_session_commits_and_refuses_a_failed_commit(example: Example) -> None:
    session = example("depends/session.py")
    async with client_of(session.app) as client:
        await assert_a_failed_commit_is_never_a_201(client)
        assert (await client.post("/notes", json={"text": "other"})).json()["text"] == "other"


def test_introspect_guide_listing_follows_included_routers(example: Example) -> None:
    listing = example("introspect/listing.py")
    assert listing.routes == {"GET /api/v1/items/{item_id}"}
