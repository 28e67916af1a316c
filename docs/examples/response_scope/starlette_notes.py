from notes_db import Note, engine, lifespan, transaction
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mintaka.core import response_stack
from mintaka.core.starlette import ResponseScopedRoute, response_scoped


async def create_note(request: Request) -> JSONResponse:
    note = await request.json()
    connection = await response_stack(request).enter_async_context(transaction(engine))
    result = await connection.execute(insert(Note).values(text=note["text"]).returning(Note.id))
    return JSONResponse({"id": result.scalar_one()}, status_code=201)  # committed first


@response_scoped
async def list_notes(request: Request) -> JSONResponse:
    connection = await response_stack(request).enter_async_context(transaction(engine))
    texts = await connection.scalars(select(Note.text).order_by(Note.id))
    return JSONResponse(list(texts))


app = Starlette(
    routes=[
        ResponseScopedRoute("/notes", create_note, methods=["POST"]),
        Route("/notes", list_notes, methods=["GET"]),
    ],
    lifespan=lifespan,
)
