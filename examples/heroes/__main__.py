"""Run the heroes service end to end: ``python -m examples.heroes``.

By default it starts the service with uvicorn on 127.0.0.1 (an ephemeral port) on a SQLite
file in a temporary folder, talks to it over real TCP, prints what happened and exits
non-zero if any promise was broken. ``--serve`` keeps it serving instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import uvicorn

from examples.heroes.app import create_app
from examples.notes.__main__ import Demo, serve_and_run


class HeroesDemo(Demo):
    """The checks the heroes demo makes."""

    async def run(self) -> None:
        """Create, read back at once, refuse a duplicate, update, list, delete."""
        hero = {"name": "Deadpond", "secret_name": "Dive Wilson"}
        created = await self.expect("POST", "/heroes/", 201, json=hero)
        path = f"/heroes/{created.json().get('id')}"
        # The very next request sees the write: the commit finished before the 201.
        await self.expect("GET", path, 200)
        # A second Deadpond is refused by the database; the client hears 409.
        await self.expect("POST", "/heroes/", 409, json={**hero, "secret_name": "Someone"})
        updated = await self.expect("PATCH", path, 200, json={"age": 48})
        if updated.json().get("age") != 48:
            self.broken.append(f"PATCH {path}: the age did not change: {updated.json()}")
        listing = await self.expect("GET", "/heroes/", 200)
        if [h["name"] for h in listing.json()] != ["Deadpond"]:
            self.broken.append(f"GET /heroes/: expected only Deadpond, got {listing.json()}")
        await self.expect("DELETE", path, 200)
        await self.expect("GET", path, 404)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the demo, or serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m examples.heroes", description=__doc__)
    parser.add_argument(
        "--database-url", help="a sync SQLAlchemy URL (default: SQLite in a temporary folder)"
    )
    parser.add_argument("--serve", action="store_true", help="serve until interrupted")
    parser.add_argument("--port", type=int, default=8000, help="the port for --serve")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-heroes-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'heroes.db'}"
        app = create_app(url)
        if args.serve:
            uvicorn.run(app, host="127.0.0.1", port=args.port)
            return 0
        print(f"database {url}")
        return asyncio.run(serve_and_run(app, HeroesDemo, "heroes"))


if __name__ == "__main__":
    sys.exit(main())
