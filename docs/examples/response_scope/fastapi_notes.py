from fastapi import APIRouter, FastAPI, Request
from notes_db import Note, engine, lifespan, transaction
from pydantic import BaseModel
from sqlalchemy import insert

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute

router = APIRouter(route_class=ResponseScopedRoute)


class NoteIn(BaseModel):
    text: str


class NoteOut(BaseModel):
    id: int
    text: str


@router.post("/notes", status_code=201)
async def create_note(request: Request, note: NoteIn) -> NoteOut:
    connection = await response_stack(request).enter_async_context(transaction(engine))
    result = await connection.execute(insert(Note).values(text=note.text).returning(Note.id))
    return NoteOut(id=result.scalar_one(), text=note.text)
    # the commit runs after serialization and before the 201 is sent


app = FastAPI(lifespan=lifespan)
app.include_router(router)
