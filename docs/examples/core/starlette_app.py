from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from mintaka.core import response_stack
from mintaka.core.starlette import ResponseScopedRoute

engine = create_async_engine("sqlite+aiosqlite:///app.db")
sessionmaker = async_sessionmaker(engine)


async def create_note(request: Request) -> JSONResponse:
    session = await response_stack(request).enter_async_context(sessionmaker.begin())
    await session.execute(text("SELECT 1"))  # your queries; the commit comes later,
    # after the response was serialized and before it is sent
    return JSONResponse({"status": "created"}, status_code=201)


app = Starlette(routes=[ResponseScopedRoute("/notes", create_note, methods=["POST"])])
