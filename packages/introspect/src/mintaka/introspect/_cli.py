"""The `mintaka-routes` command: print, save and check the routes an app serves."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mintaka.introspect._diff import diff_route_tables
from mintaka.introspect._listing import route_table
from mintaka.introspect._loader import AppLoadError, load_app
from mintaka.introspect._render import render_table
from mintaka.introspect._route_info import SORT_KEYS
from mintaka.introspect._snapshot import SnapshotError, dump_snapshot, read_snapshot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mintaka.introspect._route_info import RouteInfo

__all__ = ["main"]

PROG = "mintaka-routes"
EXIT_OK, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2


def _version() -> str:
    try:
        return version("mintaka-introspect")
    except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "List every route a Starlette or FastAPI app serves, including included "
            "routers, mounts and hosts. Save the list as a snapshot with --write and "
            "guard the API surface in CI with --check."
        ),
        epilog=(
            "Exit status: 0 when all went well (and --check found no difference), 1 when "
            "--check found a difference, 2 when the app or the snapshot could not be read."
        ),
    )
    parser.add_argument("app", metavar="MODULE:ATTR", help="the app, e.g. myproject.main:app")
    parser.add_argument(
        "--app-dir",
        default=".",
        metavar="DIR",
        help="directory to import the module from (default: the current directory)",
    )
    parser.add_argument(
        "--sort", choices=SORT_KEYS, default="path", help="column to sort by (default: path)"
    )
    parser.add_argument(
        "--no-implicit-head",
        dest="implicit_head",
        action="store_false",
        help="leave out the HEAD that Starlette adds to every GET route",
    )
    parser.add_argument(
        "--no-websockets",
        dest="websockets",
        action="store_false",
        help="leave out WebSocket routes",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the routes as JSON")
    output.add_argument("--write", metavar="FILE", help="save the routes as a snapshot file")
    output.add_argument(
        "--check",
        metavar="FILE",
        help="compare the routes with a snapshot file; exit 1 and show the diff if they differ",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _check(rows: list[RouteInfo], snapshot: str, app: str, out: TextIO) -> int:
    diff = diff_route_tables(read_snapshot(snapshot), rows)
    if not diff:
        print(f"The routes of {app} match {snapshot} ({len(rows)} routes).", file=out)
        return EXIT_OK
    print(f"The routes of {app} differ from {snapshot}: {diff.summary()}.\n", file=out)
    print(diff.format(), file=out)
    print(
        f"\nIf the change is intended, update the snapshot: {PROG} {app} --write {snapshot}",
        file=out,
    )
    return EXIT_DIFFERS


def _run(args: argparse.Namespace, out: TextIO) -> int:
    app_dir = str(Path(args.app_dir).resolve())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    rows = route_table(
        load_app(args.app),
        include_websockets=args.websockets,
        include_implicit_head=args.implicit_head,
        sort=args.sort,
    )
    if args.check:
        return _check(rows, args.check, args.app, out)
    if args.write:
        try:
            Path(args.write).write_text(dump_snapshot(rows), encoding="utf-8")
        except OSError as error:
            raise SnapshotError(f"cannot write snapshot file {args.write!r}: {error}") from None
        print(f"Wrote {len(rows)} routes of {args.app} to {args.write}.", file=out)
    elif args.json:
        out.write(dump_snapshot(rows))
    else:
        print(render_table(rows) if rows else f"{args.app} serves no routes.", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mintaka-routes` with `argv` (default: the process's arguments).

    Returns:
        The exit status: 0 success, 1 `--check` found a difference, 2 an error.
    """
    args = _parser().parse_args(argv)
    try:
        return _run(args, sys.stdout)
    except (AppLoadError, SnapshotError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
