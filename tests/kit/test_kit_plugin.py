"""The kit as a pytest plugin, in a project of its own: loaded only when asked for.

Each test writes a small project (an app, a `conftest.py`, a test file) and runs pytest on
it in a child process, as the project's developers would.
"""

from __future__ import annotations

import textwrap

import pytest

# A child pytest per test: the in-process kit tests cover the FastAPI versions.
pytestmark = pytest.mark.once

APP = """
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.orm import Session, sessionmaker

from mintaka.depends.sqlalchemy import on_commit, transactional_session
from mintaka.router import Router

metadata = MetaData()
notes = Table(
    "notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(50))
)
sent = []


def create_app(url):
    engine = create_engine(url)
    metadata.create_all(engine)
    SessionDep = Annotated[Session, Depends(transactional_session(sessionmaker(engine)))]
    router = Router()

    @router.post("/notes", status_code=201)
    def create(text: str, session: SessionDep) -> dict[str, str]:
        session.execute(insert(notes).values(text=text))
        on_commit(session, sent.append, text)
        return {"text": text}

    app = FastAPI()
    app.include_router(router)
    return app
"""

CONFTEST = """
import pytest

from app import create_app

pytest_plugins = [{plugins}]


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    return create_app(f"sqlite:///{{tmp_path_factory.mktemp('db') / 'notes.db'}}")


@pytest.fixture
def mintaka_app(app):
    return app
"""

TESTS = """
import pytest


@pytest.mark.parametrize("round_", range(3))
def test_each_test_sees_only_its_own_note(mintaka_client, mintaka_database, round_):
    assert mintaka_client.post("/notes", params={"text": f"n{round_}"}).status_code == 201
    assert mintaka_client.last.committed_before_response
    assert mintaka_database.scalar("SELECT count(*) FROM notes") == 1


def test_the_callbacks_are_captured(mintaka_client, mintaka_on_commit):
    from app import sent

    before = list(sent)  # the other tests' callbacks ran: they did not capture them
    mintaka_client.post("/notes", params={"text": "mail"})
    assert mintaka_on_commit.names == ["list.append"] and sent == before
    mintaka_on_commit.run()
    assert sent == [*before, "mail"]
"""


def write_project(pytester: pytest.Pytester, *, plugins: str, mintaka_app: bool = True) -> None:
    conftest = CONFTEST.format(plugins=plugins)
    if not mintaka_app:
        conftest = conftest.split("@pytest.fixture\ndef mintaka_app")[0]
    pytester.makepyfile(app=textwrap.dedent(APP), test_notes=textwrap.dedent(TESTS))
    pytester.makeconftest(textwrap.dedent(conftest))


def test_a_project_that_lists_the_plugin_gets_its_fixtures(pytester: pytest.Pytester) -> None:
    write_project(pytester, plugins='"mintaka.depends.testing"')

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=4)


def test_dash_p_loads_it_too(pytester: pytest.Pytester) -> None:
    write_project(pytester, plugins="")

    result = pytester.runpytest_subprocess("-p", "mintaka.depends.testing", "-p", "no:randomly")

    result.assert_outcomes(passed=4)


def test_a_project_that_did_not_ask_for_it_does_not_get_it(pytester: pytest.Pytester) -> None:
    write_project(pytester, plugins="")

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(["*fixture 'mintaka_client' not found*"])


def test_without_a_mintaka_app_fixture_the_error_says_to_define_one(
    pytester: pytest.Pytester,
) -> None:
    write_project(pytester, plugins='"mintaka.depends.testing"', mintaka_app=False)

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(["*define a fixture named mintaka_app in your conftest.py*"])
