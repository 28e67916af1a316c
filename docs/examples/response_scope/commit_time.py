import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from notes_db import Note, engine, lifespan, transaction
from sqlalchemy import insert

from mintaka.core import response_headers, response_stack
from mintaka.router import Router

router = Router()


# --8<-- [start:timed]
@asynccontextmanager
async def timed(request: Request) -> AsyncIterator[None]:
    """Tell the client how long the request took, its commit included."""
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        response_headers(request)["Server-Timing"] = f"app;dur={elapsed:.1f}"


# --8<-- [end:timed]
@router.post("/notes", status_code=201)
async def create_note(request: Request) -> dict[str, int]:
    note = await request.json()
    stack = response_stack(request)
    await stack.enter_async_context(timed(request))  # entered first, so it exits last
    connection = await stack.enter_async_context(transaction(engine))
    result = await connection.execute(insert(Note).values(text=note["text"]).returning(Note.id))
    return {"id": result.scalar_one()}


app = FastAPI(lifespan=lifespan)
app.include_router(router)
