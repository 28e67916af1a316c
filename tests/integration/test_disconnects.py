"""Clients that hang up mid-request leave nothing behind, and every write is whole.

The decision, tested here and stated in the docs: uvicorn does not cancel a request
whose client hung up, so an endpoint that completes normally commits, although the
response reaches nobody (as when a response is lost on the way). A request whose body
never arrived in full never reaches the endpoint, so it writes nothing.

Half of the clients close their side (FIN), half reset the connection (RST, with
`SO_LINGER` 0). Afterwards the app's pool has every connection back, PostgreSQL has no
backend of the app left `idle in transaction`, and every batch of rows is all or nothing.
"""

import asyncio
import contextlib
import json
import socket
import struct
import uuid
from collections.abc import Awaitable
from functools import partial

import httpx
import pytest

from tests.integration._database import ProofDatabase
from tests.integration._server import Server
from tests.integration._traffic import run_limited, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.anyio]

HANG_UPS = 200
TRUNCATED = 40
ROWS = 3
TIMEOUT = 30.0


def post(path: str, body: bytes, *, length: int | None = None) -> bytes:
    """A raw HTTP/1.1 POST; `length` may claim more body than `body` has."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    )
    return head.encode() + body


async def hang_up(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, reset: bool) -> None:
    """Close the client's side (FIN) and wait for the server's, or reset the connection."""
    if reset:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        writer.write_eof()
        await reader.read()  # the server closes once it has seen the end of the stream
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def json_of(response: Awaitable[httpx.Response]) -> bool:
    return bool((await response).json())


async def test_hung_up_clients_leak_nothing_and_writes_are_whole(
    database: ProofDatabase, server: Server
) -> None:
    run = uuid.uuid4().hex[:8]
    flush = database.dialect == "postgresql"
    port = int(server.base_url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as observer:

        async def hang_up_while_the_endpoint_waits(index: int) -> None:
            batch = f"hang-{run}-{index}"
            body = {"size": ROWS, "wait_for_disconnect": TIMEOUT, "flush": flush}
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(f"/batches/{batch}", json.dumps(body).encode()))
            await writer.drain()
            # Hang up only once the endpoint holds the batch in its open transaction.
            started = f"/batches/{batch}/started"
            await wait_until(lambda: json_of(observer.get(started)), server)
            await hang_up(writer, reader, reset=index % 2 == 1)

        async def truncate_the_body(index: int) -> None:
            batch = f"cut-{run}-{index}"
            body = json.dumps({"size": ROWS, "flush": flush}).encode()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(f"/batches/{batch}", body[: len(body) // 2], length=len(body)))
            await writer.drain()
            await asyncio.sleep(0.01)
            await hang_up(writer, reader, reset=index % 2 == 1)

        concurrency = 20 if flush else 5
        jobs = [partial(hang_up_while_the_endpoint_waits, i) for i in range(HANG_UPS)]
        jobs += [partial(truncate_the_body, i) for i in range(TRUNCATED)]
        await run_limited(concurrency, jobs)

        # The endpoints finish (and commit) after their clients left: wait for that.
        async def every_batch_stored() -> bool:
            return len(await database.batch_sizes(run)) == HANG_UPS

        async def no_connection_checked_out() -> bool:
            return bool((await observer.get("/diagnostics")).json()["checked_out"] == 0)

        await wait_until(every_batch_stored, server)
        await wait_until(no_connection_checked_out, server)
        assert (await observer.get("/health")).status_code == 204

    sizes = await database.batch_sizes(run)
    assert set(sizes.values()) == {ROWS}, "a batch was stored in part"
    assert set(sizes) == {f"hang-{run}-{index}" for index in range(HANG_UPS)}
    assert await database.idle_in_transaction() == 0
