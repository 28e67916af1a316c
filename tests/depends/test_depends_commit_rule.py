"""When the transaction commits: the rule, observed at the ASGI `send` on real databases.

Every test runs with an `async_sessionmaker` and with a sync `sessionmaker`, on a SQLite
file and on PostgreSQL. The table is read through a connection of its own at the moment
`http.response.start` is sent.
"""

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import CommitRule, transactional_session
from tests.depends._depends_asgi import Observed, observe
from tests.depends._depends_db import Database
from tests.depends.conftest import SessionFactory

pytestmark = pytest.mark.anyio


def build_app(
    database: Database, make_sessionmaker: SessionFactory, commit_on: CommitRule | None = None
) -> FastAPI:
    get_session = transactional_session(make_sessionmaker(), commit_on=commit_on)
    Session = Annotated[Any, Depends(get_session)]
    Note = database.note_class
    router = APIRouter(route_class=ResponseScopedRoute)

    # No flush in the endpoints: the INSERT runs when the transaction commits, if it does.
    @router.post("/returned/{key}/{status}")
    async def returned(key: str, status: int, session: Session) -> JSONResponse:
        session.add(Note(key))
        return JSONResponse({"key": key}, status_code=status)

    @router.post("/injected/{key}/{status}")
    async def injected(
        key: str, status: int, session: Session, response: Response
    ) -> dict[str, str]:
        session.add(Note(key))
        response.status_code = status
        return {"key": key}

    @router.post("/raised/{key}/{status}")
    async def raised(key: str, status: int, session: Session) -> None:
        session.add(Note(key))
        raise HTTPException(status_code=status)

    @router.post("/failed/{key}")
    async def failed(key: str, session: Session) -> None:
        session.add(Note(key))
        raise ValueError("the endpoint failed after writing")

    @router.post("/orphans/{key}", status_code=201)
    async def orphan(key: str, session: Session) -> dict[str, str]:
        session.add(Note(key, parent_id=999))  # the foreign key is checked at commit
        return {"key": key}

    app = FastAPI()
    app.include_router(router)
    return app


async def post(app: FastAPI, database: Database, path: str) -> Observed:
    return await observe(app, path, database.keys)


@pytest.mark.parametrize("status", [200, 201, 303, 307])
@pytest.mark.parametrize("how", ["returned", "injected"])
async def test_a_response_below_400_commits_before_it_starts(
    database: Database, make_sessionmaker: SessionFactory, how: str, status: int
) -> None:
    app = build_app(database, make_sessionmaker)

    observed = await post(app, database, f"/{how}/a/{status}")

    assert (observed.status, observed.at_start) == (status, ["a"])


@pytest.mark.parametrize("status", [400, 409, 500, 503])
@pytest.mark.parametrize("how", ["returned", "injected"])
async def test_a_response_of_400_or_more_rolls_back(
    database: Database, make_sessionmaker: SessionFactory, how: str, status: int
) -> None:
    app = build_app(database, make_sessionmaker)

    observed = await post(app, database, f"/{how}/a/{status}")

    assert (observed.status, observed.at_start) == (status, [])
    assert await database.keys() == []


@pytest.mark.parametrize("status", [200, 303, 404, 409, 500])
async def test_a_raised_http_exception_rolls_back_whatever_its_status(
    database: Database, make_sessionmaker: SessionFactory, status: int
) -> None:
    app = build_app(database, make_sessionmaker)

    observed = await post(app, database, f"/raised/a/{status}")

    assert (observed.status, observed.at_start) == (status, [])


async def test_any_other_exception_rolls_back_and_answers_500(
    database: Database, make_sessionmaker: SessionFactory
) -> None:
    app = build_app(database, make_sessionmaker)

    observed = await post(app, database, "/failed/a")

    assert (observed.status, observed.at_start) == (500, [])
    assert isinstance(observed.raised, ValueError)


async def test_a_commit_that_fails_becomes_a_500_never_the_success(
    database: Database, make_sessionmaker: SessionFactory
) -> None:
    app = build_app(database, make_sessionmaker)

    observed = await post(app, database, "/orphans/a")

    assert (observed.status, observed.at_start) == (500, [])
    assert isinstance(observed.raised, IntegrityError)
    assert await database.keys() == []


@pytest.mark.parametrize(
    ("status", "committed"), [(200, True), (201, True), (303, False), (409, False)]
)
async def test_commit_on_decides_from_the_status_the_client_gets(
    database: Database, make_sessionmaker: SessionFactory, status: int, committed: bool
) -> None:
    asked: list[int] = []

    def only_2xx(status: int) -> bool:
        asked.append(status)
        return 200 <= status < 300

    app = build_app(database, make_sessionmaker, commit_on=only_2xx)

    observed = await post(app, database, f"/returned/a/{status}")

    assert (observed.status, observed.at_start) == (status, ["a"] if committed else [])
    assert asked == [status]


async def test_commit_on_is_not_asked_when_an_exception_rolls_back(
    database: Database, make_sessionmaker: SessionFactory
) -> None:
    asked: list[int] = []

    def always(status: int) -> bool:
        asked.append(status)
        return True

    app = build_app(database, make_sessionmaker, commit_on=always)

    observed = await post(app, database, "/raised/a/200")

    assert (observed.status, observed.at_start, asked) == (200, [], [])


async def test_a_commit_rule_that_raises_rolls_back_and_answers_500(
    database: Database, make_sessionmaker: SessionFactory
) -> None:
    def broken(status: int) -> bool:
        raise ValueError(f"cannot judge {status}")

    app = build_app(database, make_sessionmaker, commit_on=broken)

    observed = await post(app, database, "/returned/a/201")

    assert (observed.status, observed.at_start) == (500, [])
    assert isinstance(observed.raised, ValueError)
