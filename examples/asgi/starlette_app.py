"""The notes service on plain Starlette, with an `on_error` that answers conflicts."""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.asgi.notes_db import Note, open_session
from mintaka.core.asgi import ASGIApp, ResponseScopeMiddleware, default_error_response


async def create_note(request: Request) -> JSONResponse:
    session = await open_session(request, request.app.state.sessionmaker)
    note = Note(text=(await request.json())["text"])
    session.add(note)
    return JSONResponse({"text": note.text}, status_code=201)


async def on_error(scope: Any, error: Exception) -> ASGIApp:
    """A commit that breaks the unique constraint is a conflict; the rest stays a 500."""
    if isinstance(error, IntegrityError):
        return JSONResponse({"detail": "a note with this text exists"}, status_code=409)
    return await default_error_response(scope, error)


def create_app(sessionmaker: async_sessionmaker[AsyncSession]) -> Starlette:
    app = Starlette(
        routes=[Route("/notes", create_note, methods=["POST"])],
        middleware=[Middleware(ResponseScopeMiddleware, on_error=on_error)],
    )
    app.state.sessionmaker = sessionmaker
    return app
