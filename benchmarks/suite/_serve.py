"""A server for the HTTP benchmark, in a process of its own.

    python -m benchmarks.suite._serve mintaka|fastapi|canned DATABASE_DIRECTORY

It binds 127.0.0.1 on an ephemeral port, prints the port on a line of its own once it
accepts connections, and serves until it is terminated. `mintaka` and `fastapi` serve
`GET /notes` (one row read through a transactional SQLite session) with uvicorn;
`canned` answers every request at once with a fixed response, without any framework: it
measures how many requests the load generator itself can drive.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from benchmarks.suite._canned import canned_server

VARIANTS = ("mintaka", "fastapi", "canned")


def _app(variant: str, directory: Path) -> object:
    from fastapi import Depends
    from fastapi.routing import APIRoute

    from benchmarks.suite import _apps

    database = _apps.Database(directory, populate=False)
    maker = database.async_sessionmaker
    if variant == "mintaka":
        dependency = Depends(_apps.mintaka_session(maker, sync=False))
        return _apps.async_session_app(_apps.route_class(), dependency)
    scoped, _ = _apps.fastapi_scoped(_apps.fastapi_async_recipe(maker))
    return _apps.async_session_app(APIRoute, scoped)


def main(argv: list[str]) -> None:
    variant, directory = argv
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    print(listener.getsockname()[1], flush=True)
    if variant == "canned":
        asyncio.run(canned_server(listener))
        return
    import uvicorn

    config = uvicorn.Config(
        _app(variant, Path(directory)),  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1:])
