"""The heroes service: sync SQLModel sessions from `transactional_session`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Field, Session, SQLModel, create_engine, select

from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

DEFAULT_DATABASE_URL = "sqlite:///heroes.db"


class HeroBase(SQLModel):
    """What every view of a hero has."""

    name: str = Field(index=True, unique=True)
    age: int | None = Field(default=None, index=True)


class Hero(HeroBase, table=True):
    """A stored hero. The name is unique, so a second hero of the same name is refused."""

    id: int | None = Field(default=None, primary_key=True)
    secret_name: str


class HeroPublic(HeroBase):
    """A hero as clients receive it: with its id, without its secret name."""

    id: int


class HeroCreate(HeroBase):
    """A new hero, as clients send it."""

    secret_name: str


class HeroUpdate(SQLModel):
    """A partial update: only the fields the client sends change."""

    name: str | None = None
    age: int | None = None
    secret_name: str | None = None


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    """Answer a write that the database refused with 409 Conflict."""
    return JSONResponse(
        {"detail": f"{request.method} {request.url.path} conflicts with a stored hero"},
        status_code=409,
    )


def create_app(database_url: str = DEFAULT_DATABASE_URL) -> FastAPI:
    """Build the heroes service on the database at ``database_url``.

    Args:
        database_url: A sync SQLAlchemy URL, SQLite by default.

    Returns:
        The application. Its lifespan creates the table and disposes of the engine.
    """
    connect_args = {"check_same_thread": False} if database_url.startswith("sqlite") else {}
    engine = create_engine(database_url, connect_args=connect_args)
    # --8<-- [start:session]
    get_session = transactional_session(sessionmaker(engine, class_=Session))
    SessionDep = Annotated[Session, Depends(get_session)]  # noqa: N806
    # --8<-- [end:session]
    router = Router(prefix="/heroes", tags=["heroes"])

    # --8<-- [start:create]
    @router.post("/", response_model=HeroPublic, status_code=201)
    def create_hero(hero: HeroCreate, session: SessionDep) -> Hero:
        db_hero = Hero.model_validate(hero)
        session.add(db_hero)
        session.flush()  # the INSERT: assigns the id (a duplicate name fails here)
        session.refresh(db_hero)
        return db_hero  # no commit: it follows before the 201 is sent

    # --8<-- [end:create]

    @router.get("/", response_model=list[HeroPublic])
    def read_heroes(
        session: SessionDep, offset: int = 0, limit: Annotated[int, Query(le=100)] = 100
    ) -> list[Hero]:
        return list(session.exec(select(Hero).offset(offset).limit(limit)).all())

    @router.get("/{hero_id}", response_model=HeroPublic)
    def read_hero(hero_id: int, session: SessionDep) -> Hero:
        hero = session.get(Hero, hero_id)
        if not hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        return hero

    @router.patch("/{hero_id}", response_model=HeroPublic)
    def update_hero(hero_id: int, hero: HeroUpdate, session: SessionDep) -> Hero:
        db_hero = session.get(Hero, hero_id)
        if not db_hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
        session.add(db_hero)
        session.flush()
        session.refresh(db_hero)
        return db_hero

    @router.delete("/{hero_id}")
    def delete_hero(hero_id: int, session: SessionDep) -> dict[str, bool]:
        hero = session.get(Hero, hero_id)
        if not hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        session.delete(hero)
        return {"ok": True}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(SQLModel.metadata.create_all, engine)
        yield
        engine.dispose()

    app = FastAPI(title="mintaka heroes", lifespan=lifespan)
    app.include_router(router)
    app.add_exception_handler(IntegrityError, conflict)
    return app
