"""Measure, on the installed FastAPI, when a session-like dependency "commits" and what the
client receives when that commit fails.

Three ways to write the same dependency are compared: FastAPI's default ``yield``
dependency, ``Depends(..., scope="function")`` (FastAPI 0.121 and newer), and mintaka's
``response_scoped_dependency`` on a ``Router``. Each app is called with raw ASGI messages,
and the order of events is recorded at the ``send`` callable, where a server would write
to the socket. Run it with ``python measure_fastapi.py``; run it in each environment of the
test matrix to see every FastAPI version (``hatch run compat.py3.11-0.110.0:python ...``).
"""

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import fastapi
from fastapi import Depends, FastAPI
from raw_asgi import http_scope

from mintaka.depends import response_scoped_dependency
from mintaka.router import Router


class CommitFailedError(Exception):
    """Stands for a commit the database refused."""


@dataclass
class Outcome:
    """What one request showed: the events in order, and the status the client received."""

    events: list[str]
    status: int | None

    @property
    def commit(self) -> str:
        """Where the commit ran, relative to the response start."""
        if "commit" not in self.events or "response.start" not in self.events:
            return "never"
        before = self.events.index("commit") < self.events.index("response.start")
        return "before the response" if before else "after the response"


def make_session(events: list[str], *, fail: bool) -> Callable[[], AsyncIterator[str]]:
    async def session() -> AsyncIterator[str]:
        yield "session"
        events.append("commit")
        if fail:
            raise CommitFailedError

    return session


def build_app(kind: str, events: list[str], *, fail: bool) -> FastAPI:
    session = make_session(events, fail=fail)
    if kind == "mintaka":
        router: fastapi.APIRouter = Router()
        dependency = Depends(response_scoped_dependency(session))
    elif kind == 'Depends(scope="function")':
        router = fastapi.APIRouter()
        dependency = Depends(session, scope="function")  # type: ignore[call-arg, unused-ignore]
    else:
        router = fastapi.APIRouter()
        dependency = Depends(session)

    @router.post("/notes", status_code=201)
    async def create_note(session: str = dependency) -> dict[str, str]:
        return {"stored": session}

    app = FastAPI()
    app.include_router(router)
    return app


async def request(app: FastAPI, events: list[str]) -> int | None:
    status: int | None = None
    scope = http_scope("POST", "/notes")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            events.append("response.start")

    try:
        await app(scope, receive, send)
    except CommitFailedError:
        events.append("error raised to the server")
    return status


def measure(kind: str, *, fail: bool) -> Outcome:
    events: list[str] = []
    status = asyncio.run(request(build_app(kind, events, fail=fail), events))
    return Outcome(events, status)


def kinds() -> list[str]:
    found = ["default yield"]
    if "scope" in inspect.signature(Depends).parameters:
        found.append('Depends(scope="function")')
    return [*found, "mintaka"]


def main() -> None:
    print(f"FastAPI {fastapi.__version__}")
    for kind in kinds():
        ok, failed = measure(kind, fail=False), measure(kind, fail=True)
        print(
            f"{kind:28} commits {ok.commit:20} "
            f"client gets {ok.status} on success, {failed.status} when the commit fails"
        )


if __name__ == "__main__":
    main()
