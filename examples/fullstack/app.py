"""Build the API on an engine, as the template has it or after adopting mintaka."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import SQLModel

from examples.fullstack.deps import mintaka_get_db, plain_get_db
from examples.fullstack.routes import items, users
from mintaka.core.fastapi import ResponseScopedRoute

# Only these: other examples put their tables into SQLModel's metadata too.
TABLES = ("fullstack_user", "fullstack_item")


def create_app(engine: Engine, *, mintaka: bool) -> FastAPI:
    """The users-and-items API on `engine`.

    Args:
        engine: A sync engine; its database needs the tables of `create_tables`.
        mintaka: `False` builds the app as the template does (a plain `yield` session
            and `APIRoute`); `True` makes the two changes of the adoption: `get_db` from
            `transactional_session`, and routers with `route_class=ResponseScopedRoute`.

    Returns:
        The application.
    """
    # --8<-- [start:factory]
    if mintaka:
        return build_app(mintaka_get_db(engine), route_class=ResponseScopedRoute)
    return build_app(plain_get_db(engine), route_class=APIRoute)
    # --8<-- [end:factory]


def build_app(get_db: Callable[..., Any], *, route_class: type[APIRoute]) -> FastAPI:
    """The API whose routes, of `route_class`, take their sessions from `get_db`."""
    app = FastAPI(title="mintaka full-stack example")
    app.include_router(users.build_router(get_db, route_class))
    app.include_router(items.build_router(get_db, route_class))
    return app


def create_tables(engine: Engine) -> None:
    """Create the app's tables."""
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables[t] for t in TABLES])
