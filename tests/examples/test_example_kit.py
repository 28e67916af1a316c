"""The examples' APIs tested with mintaka's test kit, as a team that adopts mintaka would.

The root `conftest.py` loads the kit (`pytest_plugins = ["mintaka.depends.testing"]`);
each test here gets the app on a database of its own, every request's commit and response
recorded, and everything it wrote rolled back when it ends, so the tests share one file
database and still start from an empty table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from examples.heroes.app import create_app as create_heroes_app
from examples.notes.app import create_app as create_notes_app

if TYPE_CHECKING:
    from mintaka.depends.testing import OuterTransactions, RecordingClient


@pytest.fixture(scope="module")
def database_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kit-examples")


@pytest.fixture(params=["notes", "heroes"])
def example(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mintaka_app(example: str, database_folder: Path) -> Any:
    path = database_folder / f"{example}.db"
    if example == "notes":
        return create_notes_app(f"sqlite+aiosqlite:///{path}")
    return create_heroes_app(f"sqlite:///{path}")


def create(client: RecordingClient, example: str, name: str) -> Any:
    if example == "notes":
        return client.post("/notes", json={"slug": name, "text": f"text of {name}"})
    return client.post("/heroes/", json={"name": name, "secret_name": f"secret {name}"})


def stored(database: OuterTransactions, example: str) -> int:
    table = "mintaka_example_notes" if example == "notes" else "hero"
    return int(database.scalar(f"SELECT count(*) FROM {table}"))


def test_a_create_is_committed_before_its_201(
    mintaka_client: RecordingClient, mintaka_database: OuterTransactions, example: str
) -> None:
    response = create(mintaka_client, example, "first")

    assert response.status_code == 201
    assert mintaka_client.last.committed_before_response
    assert stored(mintaka_database, example) == 1


@pytest.mark.parametrize("round_", [1, 2])
def test_every_test_starts_from_an_empty_table(
    mintaka_client: RecordingClient,
    mintaka_database: OuterTransactions,
    example: str,
    round_: int,
) -> None:
    assert stored(mintaka_database, example) == 0
    assert create(mintaka_client, example, f"round-{round_}").status_code == 201
    assert stored(mintaka_database, example) == 1


def test_a_refused_write_commits_nothing_and_is_told_so(
    mintaka_client: RecordingClient, mintaka_database: OuterTransactions, example: str
) -> None:
    if example == "notes":
        first = create(mintaka_client, example, "twice")
        second = create(mintaka_client, example, "twice")
        expected = 409
    else:
        first = create(mintaka_client, example, "Deadpond")
        second = mintaka_client.post("/heroes/", json={"name": "Deadpond"})
        expected = 422
    assert first.status_code == 201
    assert second.status_code == expected
    assert "commit" not in mintaka_client.last.events
    assert mintaka_client.last.events[-2:] == ["response.start", "response.body"]
    assert stored(mintaka_database, example) == 1


def test_a_read_commits_nothing_and_answers_from_the_tests_transaction(
    mintaka_client: RecordingClient, example: str
) -> None:
    create(mintaka_client, example, "seen")
    listed = mintaka_client.get("/notes" if example == "notes" else "/heroes/")

    assert listed.status_code == 200
    assert len(listed.json()) == 1
