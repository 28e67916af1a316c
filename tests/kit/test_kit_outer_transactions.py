"""`OuterTransactions` and `RecordingClient`: the app's commits inside a test's transaction.

Each test drives the notes app (tests/kit/_kit_app.py) over Starlette's TestClient on a
SQLite file or PostgreSQL, with an async or a sync session, and then looks at the
database from outside: what the app committed inside the test is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from mintaka.depends.testing import (
    CapturedCallbacks,
    KitSetupError,
    OuterTransactions,
    RecordingClient,
)
from tests.kit._kit_app import create_app
from tests.kit.conftest import Notes, make_notes


def count_of(client: RecordingClient) -> int:
    response = client.get("/notes/count")
    assert response.status_code == 200
    return int(response.json()["count"])


def test_what_the_app_commits_is_seen_in_the_test_and_gone_after_it(
    notes: Notes, make_maker: Any
) -> None:
    app = create_app(make_maker(notes), notes.table)

    with OuterTransactions(app) as database, RecordingClient(app, portal=database.portal) as client:
        created = [client.post("/notes", json={"text": text}) for text in ("a", "b")]
        assert [response.status_code for response in created] == [201, 201]
        assert client.last.committed_before_response
        assert client.last.events == ["commit", "response.start", "response.body"]
        assert database.scalar(f"SELECT count(*) FROM {notes.table.name}") == 2
        assert count_of(client) == 2  # a read-only session of the app sees them too

    assert notes.count() == 0


def test_rollbacks_and_failures_of_the_app_stay_inside_savepoints(
    notes: Notes, make_maker: Any
) -> None:
    app = create_app(make_maker(notes), notes.table)

    with (
        OuterTransactions(app) as database,
        RecordingClient(app, portal=database.portal, raise_server_exceptions=False) as client,
    ):
        assert client.post("/notes", json={"text": "kept"}).status_code == 201
        refused = client.post("/notes", json={"text": "refused"})
        assert refused.status_code == 409
        assert client.last.events == ["rollback", "response.start", "response.body"]
        assert not client.last.committed_before_response
        duplicate = client.post("/notes", json={"text": "kept"})  # fails at the flush
        assert duplicate.status_code == 500
        # The outer transaction survived both: the next request works, and sees one note.
        assert client.post("/notes", json={"text": "after"}).status_code == 201
        assert database.scalar(f"SELECT count(*) FROM {notes.table.name}") == 2

    assert notes.count() == 0


def test_an_endpoint_that_commits_by_hand_goes_on_in_the_outer_transaction(
    notes: Notes, make_maker: Any
) -> None:
    app = create_app(make_maker(notes), notes.table)

    with OuterTransactions(app) as database, RecordingClient(app, portal=database.portal) as client:
        response = client.post("/notes/by-hand", json={"text": "by hand"})
        assert (response.status_code, response.json()) == (201, {"count": 1})
        assert client.last.events.count("commit") == 2  # the endpoint's, then mintaka's
        assert count_of(client) == 1  # after a read-only request, writes still work
        assert client.post("/notes", json={"text": "then"}).status_code == 201

    assert notes.count() == 0


def test_several_databases_each_get_an_outer_transaction(tmp_path: Path, make_maker: Any) -> None:
    first_notes = make_notes("sqlite", tmp_path)
    second_notes = make_notes("sqlite", tmp_path)
    first, second = next(first_notes), next(second_notes)
    try:
        app = create_app(make_maker(first), first.table)
        other = create_app(make_maker(second), second.table)
        app.mount("/other", other)

        with OuterTransactions(app) as database:
            assert len(database.engines) == 2
            with RecordingClient(app, portal=database.portal) as client:
                assert client.post("/notes", json={"text": "one"}).status_code == 201
                assert client.post("/other/notes", json={"text": "two"}).status_code == 201
            (engine_one, engine_two) = database.engines
            assert database.scalar(f"SELECT count(*) FROM {first.table.name}", engine_one) == 1
            assert database.scalar(f"SELECT count(*) FROM {second.table.name}", engine_two) == 1
            with pytest.raises(KitSetupError, match="several engines; name the one you mean"):
                database.scalar("SELECT 1")

        assert (first.count(), second.count()) == (0, 0)
    finally:
        first_notes.close()
        second_notes.close()


def test_captured_callbacks_are_those_of_commits_and_run_on_demand(
    notes: Notes, make_maker: Any
) -> None:
    committed: list[str] = []
    app = create_app(make_maker(notes), notes.table, committed)

    with (
        OuterTransactions(app) as database,
        RecordingClient(app, portal=database.portal) as client,
        CapturedCallbacks() as captured,
    ):
        client.post("/notes", json={"text": "mailed"})
        client.post("/notes", json={"text": "refused"})  # 409: rolled back, never due
        assert captured.names == ["list.append"]
        assert captured.callbacks[0].when == "after_response"
        assert captured.callbacks[0].request.startswith("POST /notes")
        assert committed == []  # held, not run
        captured.run()
        assert (committed, captured.callbacks) == (["mailed"], [])


def test_without_capturing_the_callbacks_run_as_in_production(
    notes: Notes, make_maker: Any
) -> None:
    committed: list[str] = []
    app = create_app(make_maker(notes), notes.table, committed)

    with OuterTransactions(app) as database, RecordingClient(app, portal=database.portal) as client:
        client.post("/notes", json={"text": "mailed"})

    assert committed == ["mailed"]


def test_an_async_session_on_another_event_loop_is_refused_naming_the_fix(
    notes: Notes,
) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(notes.async_url)
    app = create_app(async_sessionmaker(engine), notes.table)

    try:
        with (
            OuterTransactions(app),
            RecordingClient(app) as client,  # a portal of its own, not the kit's
            pytest.raises(RuntimeError, match=r"another event loop .* mintaka_client"),
        ):
            client.post("/notes", json={"text": "lost"})
    finally:
        anyio.run(engine.dispose)

    assert notes.count() == 0


def test_an_app_without_transactional_sessions_is_refused_naming_its_dependencies() -> None:
    from fastapi import Depends, FastAPI

    def get_db() -> Any:
        yield None

    app = FastAPI()

    @app.get("/")
    def home(db: Annotated[Any, Depends(get_db)]) -> None:
        return None

    with pytest.raises(KitSetupError, match=r"no route of the app .* dependencies: .*get_db"):
        OuterTransactions(app)


def test_a_sessionmaker_without_an_engine_is_refused_naming_the_fix(notes: Notes) -> None:
    app = create_app(sessionmaker(), notes.table)

    with pytest.raises(KitSetupError, match=r"has no engine.*sessionmaker\(engine\)"):
        OuterTransactions(app)


def test_sessionmakers_the_kit_cannot_wrap_are_refused(notes: Notes) -> None:
    engine = create_engine(notes.sync_url)
    try:
        with engine.connect() as connection:
            on_a_connection = create_app(sessionmaker(connection), notes.table)
            with pytest.raises(KitSetupError, match="not to an Engine or AsyncEngine"):
                OuterTransactions(on_a_connection)
        per_table = create_app(sessionmaker(binds={notes.table: engine}), notes.table)
        with pytest.raises(KitSetupError, match=r"binds each table"):
            OuterTransactions(per_table)
    finally:
        engine.dispose()
