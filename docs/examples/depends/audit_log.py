from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header

from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends import response_scoped_dependency

audit_trail: list[str] = []  # stands in for the audit store


class AuditLog:
    def __init__(self, user: str) -> None:
        self.user = user
        self.entries: list[str] = []

    async def flush(self) -> None:
        audit_trail.extend(f"{self.user}: {entry}" for entry in self.entries)


async def current_user(x_user: Annotated[str, Header()]) -> str:
    return x_user


@response_scoped_dependency
async def audit_log(user: Annotated[str, Depends(current_user)]) -> AsyncIterator[AuditLog]:
    log = AuditLog(user)
    try:
        yield log
    finally:
        await log.flush()  # finished before the client hears about the request


router = APIRouter(route_class=ResponseScopedRoute)  # the route opens a response scope


@router.post("/notes/{text}", status_code=201)
async def create_note(text: str, log: Annotated[AuditLog, Depends(audit_log)]) -> dict[str, str]:
    log.entries.append(f"created {text}")
    return {"text": text}


app = FastAPI()
app.include_router(router)
