"""The `mintaka-routes` command: print, save and check the routes an app serves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mintaka.introspect._audit import audit_dependencies
from mintaka.introspect._audit_render import audit_json, audit_markdown, audit_text
from mintaka.introspect._columns import COLUMNS, parse_columns
from mintaka.introspect._diff import diff_route_tables
from mintaka.introspect._listing import route_table
from mintaka.introspect._loader import AppLoadError, load_app
from mintaka.introspect._render import render_markdown, render_table
from mintaka.introspect._route_info import SORT_KEYS
from mintaka.introspect._snapshot import SnapshotError, dump_snapshot, load_snapshot
from mintaka.introspect._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import ASGIApp

    from mintaka.introspect._columns import Column
    from mintaka.introspect._route_info import RouteInfo

__all__ = ["main"]

PROG = "mintaka-routes"
EXIT_OK, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2
_DOCS = "FastAPI's documentation routes"


class UsageError(Exception):
    """The options do not fit together; the message says which and what to do."""


def _columns(text: str) -> tuple[Column, ...]:
    try:
        return parse_columns([name.strip() for name in text.split(",") if name.strip()])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "List the routes a Starlette or FastAPI app serves, including included "
            "routers, mounts and hosts (FastAPI's own documentation routes only with "
            "--include-docs-routes). Save the list as a snapshot with --write and "
            "guard the API surface in CI with --check. With --audit, show when every "
            "dependency of every FastAPI route closes, and the findings that put data at risk."
        ),
        epilog=(
            "Exit status: 0 when all went well (no difference for --check, no error finding "
            "for --audit --strict), 1 when --check found a difference or --audit --strict "
            "found an error, 2 when the app or the snapshot could not be read or the "
            "options are wrong."
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
    parser.add_argument(
        "--with",
        dest="columns",
        type=_columns,
        default=(),
        metavar="COLUMNS",
        help=(
            f"comma-separated optional columns for FastAPI routes: {', '.join(COLUMNS)} "
            "(in the table, JSON and snapshots)"
        ),
    )
    parser.add_argument(
        "--exclude",
        metavar="REGEX",
        help="leave out routes whose path matches REGEX, e.g. '^/(health|metrics)'",
    )
    parser.add_argument(
        "--include-docs-routes",
        action="store_true",
        help=(
            "list the routes FastAPI serves its documentation at (its openapi_url, "
            "docs_url, swagger_ui_oauth2_redirect_url and redoc_url: /openapi.json, /docs, "
            "...), left out by default; --check compares them anyway when the snapshot "
            "lists them"
        ),
    )
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="how to print: an aligned table (default), JSON, or Markdown for a pull request",
    )
    formats.add_argument("--json", action="store_true", help="the same as --format json")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="FILE", help="save the routes as a snapshot file")
    action.add_argument(
        "--check",
        metavar="FILE",
        help="compare the routes with a snapshot file; exit 1 and show the diff if they differ",
    )
    action.add_argument(
        "--audit",
        action="store_true",
        help="show when every dependency of every FastAPI route closes, and the findings",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="with --audit: exit 1 when a finding of severity error exists",
    )
    parser.add_argument(
        "--session-type",
        action="append",
        default=[],
        metavar="MODULE.CLASS",
        help="with --audit: one more class whose instances are database sessions (repeatable)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _check(args: argparse.Namespace, app: ASGIApp, out: TextIO) -> int:
    snapshot = load_snapshot(args.check)
    if args.columns and args.columns != snapshot.columns:
        recorded = ",".join(snapshot.columns) or "none"
        raise UsageError(
            f"{args.check} records the optional columns {recorded}, and --check compares "
            f"those; to compare {','.join(args.columns)}, write the snapshot again with "
            f"`{PROG} {args.app} --write {args.check} --with {','.join(args.columns)}`"
        )
    every = _table(args, app, snapshot.columns, include_docs_routes=True)
    without = _table(args, app, snapshot.columns, include_docs_routes=False)
    docs = _docs_routes(every, without)
    # A snapshot that lists FastAPI's documentation routes (one written before they were
    # left out by default, or with --include-docs-routes) is compared with them.
    listed = {_place(row) for row in snapshot.rows}
    with_docs = args.include_docs_routes or any(_place(row) in listed for row in docs)
    rows = every if with_docs else without
    diff = diff_route_tables(snapshot.rows, rows)
    if not diff:
        print(f"The routes of {args.app} match {args.check} ({len(rows)} routes).", file=out)
        return EXIT_OK
    print(f"The routes of {args.app} differ from {args.check}: {diff.summary()}.\n", file=out)
    print(diff.format(), file=out)
    again = f"{PROG} {args.app} --write {args.check}"
    if snapshot.columns:
        again += f" --with {','.join(snapshot.columns)}"
    if with_docs and docs:
        again += " --include-docs-routes"
    print(f"\nIf the change is intended, update the snapshot: {again}", file=out)
    return EXIT_DIFFERS


def _place(row: RouteInfo) -> tuple[str, str | None, str]:
    return (row.method, row.host, row.path)


def _table(
    args: argparse.Namespace,
    app: ASGIApp,
    columns: Sequence[Column],
    *,
    include_docs_routes: bool,
) -> list[RouteInfo]:
    return route_table(
        app,
        include_websockets=args.websockets,
        include_implicit_head=args.implicit_head,
        sort=args.sort,
        columns=columns,
        exclude=args.exclude,
        include_docs_routes=include_docs_routes,
    )


def _audit(args: argparse.Namespace, app: ASGIApp, out: TextIO) -> int:
    audit = audit_dependencies(
        app,
        session_types=args.session_type,
        exclude=args.exclude,
        include_docs_routes=args.include_docs_routes,
    )
    render = {"json": audit_json, "markdown": audit_markdown}.get(args.format, audit_text)
    out.write(render(audit).rstrip("\n") + "\n")
    return EXIT_DIFFERS if args.strict and audit.errors else EXIT_OK


def _validate(args: argparse.Namespace) -> None:
    if (args.json or args.format != "table") and (args.write or args.check):
        raise UsageError("--json and --format choose how to print; --write and --check print none")
    if args.json:
        args.format = "json"
    if args.strict and not args.audit:
        raise UsageError("--strict applies to --audit; add --audit")
    if args.session_type and not args.audit:
        raise UsageError("--session-type applies to --audit; add --audit")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    _validate(args)
    app_dir = str(Path(args.app_dir).resolve())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    app = load_app(args.app)
    if args.audit:
        return _audit(args, app, out)
    if args.check:
        return _check(args, app, out)
    rows = _table(args, app, args.columns, include_docs_routes=args.include_docs_routes)
    hidden: list[RouteInfo] = []
    if not args.include_docs_routes and args.format != "json":
        hidden = _docs_routes(_table(args, app, args.columns, include_docs_routes=True), rows)
    if args.write:
        try:
            Path(args.write).write_text(dump_snapshot(rows, columns=args.columns), encoding="utf-8")
        except OSError as error:
            raise SnapshotError(f"cannot write snapshot file {args.write!r}: {error}") from None
        without = f", without {_DOCS} (--include-docs-routes writes them too)" if hidden else ""
        print(f"Wrote {len(rows)} routes of {args.app} to {args.write}{without}.", file=out)
    elif args.format == "json":
        out.write(dump_snapshot(rows, columns=args.columns))
    elif not rows:
        other = f" other than {_DOCS} ({_paths(hidden)})" if hidden else ""
        print(f"{args.app} serves no routes{other}.", file=out)
    elif args.format == "markdown":
        print(render_markdown(rows, args.columns), file=out)
    else:
        print(render_table(rows, columns=args.columns), file=out)
        if hidden:
            print(f"\nNot listed: {_DOCS} ({_paths(hidden)}).", file=out)
    return EXIT_OK


def _docs_routes(every: list[RouteInfo], without: list[RouteInfo]) -> list[RouteInfo]:
    """The rows of FastAPI's documentation routes: those of `every` that `without` lacks."""
    kept = set(without)
    return [row for row in every if row not in kept]


def _paths(rows: list[RouteInfo]) -> str:
    paths = ", ".join(dict.fromkeys(row.path for row in rows))
    return f"{paths}; --include-docs-routes lists them"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mintaka-routes` with `argv` (default: the process's arguments).

    Returns:
        The exit status: 0 success, 1 `--check` found a difference or `--audit --strict`
        found an error, 2 an error.
    """
    args = _parser().parse_args(argv)
    try:
        return _run(args, sys.stdout)
    except (AppLoadError, SnapshotError, UsageError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
