"""Run the notes service end to end, or serve it: ``python -m examples.notes``.

Without options it starts the service with uvicorn on 127.0.0.1 (an ephemeral port) on
an embedded SQLite database in a temporary folder, talks to it over real TCP, prints what
happened and exits non-zero if any promise was broken. ``--serve`` keeps it serving
instead, on a SQLite file that survives restarts (``notes.db`` in the current directory
unless ``--database-url`` names another database).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import create_async_engine

from examples.notes.app import Base, create_app

if TYPE_CHECKING:
    from fastapi import FastAPI

SERVE_DATABASE_FILE = "notes.db"
DEFAULT_PORT = 8000
DATABASE_TIMEOUT = 10.0
URL_EXAMPLES = "sqlite+aiosqlite:///notes.db or postgresql+asyncpg://user@host:5432/db"


class StartupError(Exception):
    """The service cannot start; the message is one line that names the fix."""


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


async def check_database(url: str) -> None:
    """Connect to the database at `url` and create the table, or explain what is wrong.

    Raises:
        StartupError: The URL is not an async SQLAlchemy URL, its driver is missing, or
            the database cannot be reached; the message names the URL and the fix.
    """
    try:
        engine = create_async_engine(url)
    except (ArgumentError, InvalidRequestError, ImportError) as error:
        reason = str(error).splitlines()[0]
        raise StartupError(
            f"--database-url {url!r} is not a usable async SQLAlchemy URL ({reason}); "
            f"use one like {URL_EXAMPLES}"
        ) from None
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    folder = Path(parsed.database or "").parent
    if parsed.get_backend_name() == "sqlite" and parsed.database and not folder.is_dir():
        await engine.dispose()
        raise StartupError(
            f"the folder {folder} of the SQLite file in --database-url {shown} does not "
            "exist; create it or name another file"
        )
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    except TimeoutError:
        raise StartupError(
            f"the database at {shown} did not answer within {DATABASE_TIMEOUT:.0f} s; "
            "check that it runs and that --database-url names it"
        ) from None
    except Exception as error:
        reason = one_line(error)
        raise StartupError(
            f"cannot use the database at {shown}: {reason[:300]}; "
            "check that it runs and that --database-url names it"
        ) from None
    finally:
        await engine.dispose()


def one_line(error: BaseException) -> str:
    """The gist of a driver's error: one line, without SQLAlchemy's class and link."""
    text = " ".join(str(error).split()) or type(error).__name__
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text)
    return re.sub(r"^\([\w.]+\) ", "", text).strip()


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: a free port the kernel picks).

    Raises:
        StartupError: The port is taken or may not be used; the message names `--port`.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on 127.0.0.1 is taken by another program; choose another "
                "with --port (for example --port 8001)"
            ) from None
        raise StartupError(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror}); choose another port with --port"
        ) from None
    return sock


async def serve_and_run(app: FastAPI, demo_class: type[Demo], name: str) -> int:
    """Serve `app` on an ephemeral port, run the demo against it, and stop the server.

    Args:
        app: The application to serve.
        demo_class: The checks to run against it.
        name: What to call the service and the demo in the transcript, such as ``notes``.

    Returns:
        The exit status: 0 when every promise held.
    """
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with listen(0) as sock:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if serving.done():
                return 1
            await asyncio.sleep(0.01)
        port = sock.getsockname()[1]
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
    await check_database(database_url)
    print(f"database {database_url}")
    return await serve_and_run(create_app(database_url), Demo, "notes")


def stop_when_orphaned(server: uvicorn.Server) -> None:
    """Stop `server` once the process that started this one is gone.

    `hatch run example --serve` starts this process as hatch's child: stopping hatch by its
    PID (not Ctrl+C, which reaches the whole process group) would otherwise leave the
    server running, holding the port, with nobody to stop it.
    """
    parent = os.getppid()

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            time.sleep(0.2)

    threading.Thread(target=watch, name="stop-when-orphaned", daemon=True).start()


def serve(database_url: str, port: int) -> int:
    """Serve the app on 127.0.0.1:`port` until interrupted or orphaned."""
    asyncio.run(check_database(database_url))
    with listen(port) as sock:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        shown = make_url(database_url).render_as_string(hide_password=True)
        print(f"notes service: {base}/notes")
        print(f"  interactive docs: {base}/docs (Swagger UI, loaded from a CDN: blank offline)")
        print(f"  OpenAPI document: {base}/openapi.json")
        print(f"  database:         {shown}")
        print("Press Ctrl+C to stop.", flush=True)
        server = uvicorn.Server(uvicorn.Config(create_app(database_url), log_level="info"))
        stop_when_orphaned(server)
        server.run(sockets=[sock])
    return 0


def port_number(text: str) -> int:
    """`--port`'s value: a TCP port number."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with a help text that says where the data goes."""
    parser = argparse.ArgumentParser(
        prog="hatch run example",
        description=(
            "The mintaka notes service. Without options: start it on a temporary SQLite "
            "database, check over real TCP that every write is committed before its 201 "
            "and that a duplicate is answered 409, and exit non-zero if not."
        ),
        epilog="Examples: hatch run example --serve;  hatch run example --serve --port "
        "8001 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help=f"serve until Ctrl+C instead of running the demo; the notes are kept in "
        f"./{SERVE_DATABASE_FILE} (in the current directory) unless --database-url says "
        "otherwise, so they survive restarts",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        help=f"the port --serve listens on, on 127.0.0.1 (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=f"an async SQLAlchemy URL, such as {URL_EXAMPLES} (default: a temporary "
        f"SQLite file for the demo, ./{SERVE_DATABASE_FILE} for --serve)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the demo, or serve until interrupted; a startup problem is one line on stderr."""
    args = parse_arguments(argv)
    if args.port is not None and not args.serve:
        print(
            "error: --port is the port --serve listens on; the demo picks a free port "
            "itself. Add --serve, or leave out --port",
            file=sys.stderr,
        )
        return 2
    try:
        if args.serve:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(SERVE_DATABASE_FILE).resolve()}"
            return serve(url, args.port or DEFAULT_PORT)
        with tempfile.TemporaryDirectory(prefix="mintaka-notes-") as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'notes.db'}"
            return asyncio.run(demo(url))
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl+C is how --serve is meant to stop; during the demo it is an interruption.
        return 0 if args.serve else 130


if __name__ == "__main__":
    sys.exit(main())
