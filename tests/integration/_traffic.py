"""Clients for the integration suite and the benchmark: one TCP connection per request.

A client made by `one_connection_per_request` keeps no connection alive, so every
request opens its own, as requests from different clients (or tabs, or services) would.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import anyio
import httpx

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from tests.integration._server import Server

T = TypeVar("T")


def one_connection_per_request(base_url: str) -> httpx.AsyncClient:
    """An HTTP client that opens a new connection for every request."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0)


async def run_limited(concurrency: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run `jobs`, at most `concurrency` at a time; their results in order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def limited(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(limited(job) for job in jobs))


WAIT_SECONDS = 30.0


async def wait_until(condition: Callable[[], Awaitable[bool]], server: Server) -> None:
    """Poll `condition` (state in another process) until it holds.

    Raises:
        AssertionError: It still did not hold after 30 s; the message ends with the
            server's log.
    """
    try:
        with anyio.fail_after(WAIT_SECONDS):
            while not await condition():  # noqa: ASYNC110 - the state is in another process
                await asyncio.sleep(0.01)
    except TimeoutError:
        name = getattr(condition, "__name__", repr(condition))
        raise AssertionError(f"{name} did not hold; the server logged:\n{server.tail()}") from None


@dataclass(frozen=True)
class ReadYourWrite:
    """How create-then-read pairs went: reads that did not find the write just created."""

    pairs: int
    misses: int
    failed_writes: int


async def read_your_write(
    base_url: str, *, pairs: int, concurrency: int, commit_delay: float = 0.0
) -> ReadYourWrite:
    """Create an item, then read it at once, `pairs` times, `concurrency` pairs at a time.

    Each request goes over its own connection. A read that answers 404 for an item whose
    create was answered 201 is a miss: the client was told the write happened, and the
    very next request did not see it.
    """
    run = uuid.uuid4().hex[:8]
    delay = {"commit_delay": commit_delay} if commit_delay else {}

    async with one_connection_per_request(base_url) as client:

        async def pair(index: int) -> str:
            key = f"ryw-{run}-{index}"
            created = await client.post("/items", json={"key": key, "text": key}, params=delay)
            if created.status_code != 201:
                return "failed write"
            read = await client.get(f"/items/{key}")
            if read.status_code == 404:
                return "miss"
            read.raise_for_status()
            return "hit"

        outcomes = await run_limited(concurrency, [partial(pair, i) for i in range(pairs)])
    return ReadYourWrite(
        pairs=pairs, misses=outcomes.count("miss"), failed_writes=outcomes.count("failed write")
    )
