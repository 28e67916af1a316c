"""Run the notes service end to end: ``python -m examples.notes``.

By default it starts the service with uvicorn on 127.0.0.1 (an ephemeral port) on an
embedded SQLite database in a temporary folder, talks to it over real TCP, prints what
happened and exits non-zero if any promise was broken. ``--serve`` keeps it serving
instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn

from examples.notes.app import create_app

if TYPE_CHECKING:
    from fastapi import FastAPI


class Demo:
    """The checks the demo makes, and the transcript it prints."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.broken: list[str] = []

    async def expect(self, method: str, path: str, status: int, **kwargs: object) -> httpx.Response:
        """Send one request and record whether the answer had the expected status."""
        response = await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        held = response.status_code == status
        verdict = "ok " if held else "BROKEN"
        body = response.text or "(no body)"
        print(f"{verdict} {method:6} {path:16} -> {response.status_code} {body}")
        if not held:
            self.broken.append(f"{method} {path}: expected {status}, got {response.status_code}")
        return response

    async def run(self) -> None:
        """Create, read back at once, refuse a duplicate, delete."""
        note = {"slug": "first", "text": "committed before the 201 was sent"}
        await self.expect("POST", "/notes", 201, json=note)
        # The very next request sees the write: the commit finished before the 201.
        await self.expect("GET", "/notes/first", 200)
        # A duplicate fails at commit; the client hears 409, never a false 201.
        await self.expect("POST", "/notes", 409, json={**note, "text": "a duplicate"})
        listing = await self.expect("GET", "/notes", 200)
        if listing.json() != [note]:
            self.broken.append(f"GET /notes: expected only the first note, got {listing.json()}")
        deleted = await self.expect("DELETE", "/notes/first", 204)
        if deleted.content or "content-length" in deleted.headers:
            self.broken.append("DELETE /notes/first: a 204 must carry no body and no length")
        await self.expect("GET", "/notes/first", 404)


async def serve_and_run(app: FastAPI, demo_class: type[Demo], name: str) -> int:
    """Serve `app` on an ephemeral port, run the demo against it, and stop the server.

    Args:
        app: The application to serve.
        demo_class: The checks to run against it.
        name: What to call the service and the demo in the transcript, such as ``notes``.

    Returns:
        The exit status: 0 when every promise held.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return 1
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(f"{name} service on http://127.0.0.1:{port}")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            checks = demo_class(client)
            await checks.run()
    finally:
        server.should_exit = True
        await serving
    for problem in checks.broken:
        print(f"BROKEN: {problem}", file=sys.stderr)
    print(f"{name} demo: every promise held" if not checks.broken else f"{name} demo: broken")
    return 1 if checks.broken else 0


async def demo(database_url: str) -> int:
    """Serve the notes app on an ephemeral port, run the demo against it, stop the server."""
    print(f"database {database_url}")
    return await serve_and_run(create_app(database_url), Demo, "notes")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the demo, or serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m examples.notes", description=__doc__)
    parser.add_argument(
        "--database-url",
        help="an async SQLAlchemy URL (default: SQLite in a temporary folder)",
    )
    parser.add_argument("--serve", action="store_true", help="serve until interrupted")
    parser.add_argument("--port", type=int, default=8000, help="the port for --serve")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-notes-") as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'notes.db'}"
        if args.serve:
            uvicorn.run(create_app(url), host="127.0.0.1", port=args.port)
            return 0
        return asyncio.run(demo(url))


if __name__ == "__main__":
    sys.exit(main())
