from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mintaka.depends.sqlalchemy import transactional_session
from mintaka.router import Router

engine = create_async_engine("sqlite+aiosqlite:///accounts.db")
get_session = transactional_session(async_sessionmaker(engine))
Session = Annotated[AsyncSession, Depends(get_session)]
INSERT = text("INSERT INTO accounts (name) VALUES (:name)")
router = Router()


@router.post("/accounts/{name}", status_code=201)
async def open_account(name: str, session: Session) -> dict[str, str]:
    await session.execute(INSERT, {"name": name})
    # Committed before the 201 leaves: a commit that fails is never a 201.
    return {"name": name}


app = FastAPI()
app.include_router(router)
