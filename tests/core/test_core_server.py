"""G4 over real TCP: a client that hangs up mid-request still gets exactly one exit.

uvicorn runs in the test's own event loop on 127.0.0.1 with an ephemeral port; a raw socket
sends a request to an endpoint that waits for the client, then closes.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

import uvicorn
from fastapi import APIRouter, FastAPI, Request

from mintaka.core import response_stack
from mintaka.core.fastapi import ResponseScopedRoute

pytestmark = [pytest.mark.anyio, pytest.mark.server]

TIMEOUT = 5.0


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[int]:
    """Run uvicorn for `app` in this event loop; yield the port it listens on.

    The test binds and listens on the socket itself, so a client can connect at once: the
    kernel queues the connection until uvicorn accepts it.
    """
    config = uvicorn.Config(
        app,
        http="h11",
        ws="none",
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        task = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            yield listener.getsockname()[1]
        finally:
            server.should_exit = True
            await task


async def test_client_disconnect_mid_request_exits_the_scope_exactly_once() -> None:
    events: list[str] = []
    entered = anyio.Event()
    exited = anyio.Event()

    @asynccontextmanager
    async def transaction() -> AsyncIterator[None]:
        events.append("begin")
        try:
            yield
        except BaseException as error:
            events.append(f"exit {type(error).__name__}")
            raise
        else:
            events.append("exit")
        finally:
            exited.set()

    router = APIRouter(route_class=ResponseScopedRoute)

    @router.get("/wait")
    async def wait_for_client(request: Request) -> str:
        await response_stack(request).enter_async_context(transaction())
        entered.set()
        with anyio.fail_after(TIMEOUT):
            while (await request.receive())["type"] != "http.disconnect":
                pass
        events.append("client gone")
        return "nobody reads this"

    app = FastAPI()
    app.include_router(router)

    async with serving(app) as port:
        client = await anyio.connect_tcp("127.0.0.1", port)
        await client.send(b"GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        with anyio.fail_after(TIMEOUT):
            await entered.wait()
        await client.aclose()

        with anyio.fail_after(TIMEOUT):
            await exited.wait()
        # Give a second exit, if there were one, time to happen.
        await anyio.sleep(0.1)

    assert events == ["begin", "client gone", "exit"]
