"""The notes service on Litestar: the whole app wrapped in the middleware."""

from typing import Annotated, Any

from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.asgi.notes_db import Note, open_session
from mintaka.core.asgi import ResponseScopeMiddleware


@post("/notes", status_code=201)
async def create_note(
    request: Request[Any, Any, State],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.JSON)],
) -> dict[str, str]:
    session = await open_session(request, request.app.state.sessionmaker)
    note = Note(text=data["text"])
    session.add(note)
    return {"text": note.text}


def create_app(sessionmaker: async_sessionmaker[AsyncSession]) -> ResponseScopeMiddleware:
    app = Litestar(route_handlers=[create_note], state=State({"sessionmaker": sessionmaker}))
    return ResponseScopeMiddleware(app)
