"""The notes service on Quart: the whole app wrapped in the middleware."""

from quart import Quart, current_app, request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.asgi.notes_db import Note, open_session
from mintaka.core.asgi import ResponseScopeMiddleware


async def create_note() -> tuple[dict[str, str], int]:
    # `request` is a context-local proxy that is unbound by the time the response scope
    # exits; hand the transaction the request's ASGI scope, which stays.
    session = await open_session(request.scope, current_app.config["SESSIONMAKER"])
    note = Note(text=(await request.get_json())["text"])
    session.add(note)
    return {"text": note.text}, 201


def create_app(sessionmaker: async_sessionmaker[AsyncSession]) -> ResponseScopeMiddleware:
    app = Quart(__name__)
    app.config["SESSIONMAKER"] = sessionmaker
    app.add_url_rule("/notes", view_func=create_note, methods=["POST"])
    return ResponseScopeMiddleware(app)
