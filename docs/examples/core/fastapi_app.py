from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute

engine = create_async_engine("sqlite+aiosqlite:///app.db")
sessionmaker = async_sessionmaker(engine)
router = APIRouter(route_class=ResponseScopedRoute)


@router.post("/notes")
async def create_note(request: Request) -> dict[str, str]:
    session = await response_stack(request).enter_async_context(sessionmaker.begin())
    await session.execute(text("SELECT 1"))  # your queries; the commit comes later,
    # after the response was serialized and before it is sent
    return {"status": "created"}


app = FastAPI()
app.include_router(router)
