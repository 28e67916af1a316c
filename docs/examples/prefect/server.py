from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request, status
from pydantic import BaseModel

from mintaka.core import response_stack
from mintaka.depends import response_scoped_dependency
from mintaka.introspect import method_paths_from_routes
from mintaka.router import Router

events: list[str] = []


class Flow(BaseModel):
    name: str


@response_scoped_dependency
async def database() -> AsyncIterator[str]:
    yield "session"
    events.append("committed")  # before the response is sent, as with Prefect's helper


router = Router(prefix="/flows", tags=["flows"])  # was: PrefectRouter(prefix=..., tags=...)


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow(flow: Flow, session: str = Depends(database)) -> Flow:
    return flow


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(name: str, request: Request) -> None:
    # was: request.state.response_scoped_stack
    stack = response_stack(request)
    stack.callback(events.append, f"deleted {name}")


app = FastAPI()
app.include_router(router)
ROUTES = method_paths_from_routes(app.routes)  # {"POST /flows/", "DELETE /flows/{name}", ...}
