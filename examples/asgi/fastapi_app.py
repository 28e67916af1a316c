"""The notes service on FastAPI with the middleware instead of the route class."""

from typing import Annotated

from fastapi import Body, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.asgi.notes_db import Note, open_session
from mintaka.core.asgi import ResponseScopeMiddleware


async def create_note(
    request: Request, payload: Annotated[dict[str, str], Body()]
) -> dict[str, str]:
    session = await open_session(request, request.app.state.sessionmaker)
    note = Note(text=payload["text"])
    session.add(note)
    return {"text": note.text}


def create_app(sessionmaker: async_sessionmaker[AsyncSession]) -> FastAPI:
    app = FastAPI()
    app.state.sessionmaker = sessionmaker
    app.add_api_route("/notes", create_note, methods=["POST"], status_code=201)
    app.add_middleware(ResponseScopeMiddleware)
    return app
