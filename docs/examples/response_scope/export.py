from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from notes_db import Note, engine, lifespan
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from mintaka.router import Router

sessionmaker = async_sessionmaker(engine)
router = Router()


@router.get("/export")
async def export() -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        async with sessionmaker() as session:  # its own session, not a response-scoped one
            async for note in await session.stream_scalars(select(Note).order_by(Note.id)):
                yield f"{note.text}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


app = FastAPI(lifespan=lifespan)
app.include_router(router)
