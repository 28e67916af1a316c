"""Item 1: what a request costs in process, mintaka against what a FastAPI user writes.

Every variant is its own FastAPI app with one route, driven with raw ASGI calls in the
same event loop (no server, no client library). The variants of one group run in
interleaved rounds; each ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute

from benchmarks.suite import _apps
from benchmarks.suite._asgi import ASGIApp, cyclic_garbage, same_answers, seconds_per_request
from benchmarks.suite._features import Missing, attribute
from benchmarks.suite._section import Group, Options, section, skip
from benchmarks.suite._timing import compare, interleave_async, skipped, variant

if TYPE_CHECKING:
    from collections.abc import Callable

TITLE = "Per-request cost, in process"

ROUTE_GOAL = 1.02
DEPENDENCY_GOAL = 1.00
MIDDLEWARE_GOAL = 1.03
ASYNC_SESSION_GOAL = 1.05
SYNC_SESSION_GOAL = 1.10
DEPENDENCY_COUNTS = (1, 5, 20)


async def _measure(group: Group, apps: dict[str, ASGIApp], options: Options) -> Any:
    """Run the apps of `group` in interleaved rounds; fill in its variants; the samples."""
    await same_answers(apps)
    requests = options.size(200, 20)

    def timer(app: ASGIApp) -> Callable[[], Any]:
        return lambda: seconds_per_request(app, requests)

    samples = await interleave_async(
        {name: timer(app) for name, app in apps.items()},
        **options.rounds(100, warmup=5),
    )
    for name, app in apps.items():
        garbage = await cyclic_garbage(app, options.size(200, 20))
        group.variants.append(
            variant(name, samples[name], garbage_per_request=garbage, requests=requests)
        )
    return samples


async def route_group(options: Options) -> Group:
    """The route class alone, and the A/A control: two identical `APIRoute` apps."""
    group = Group("A plain endpoint: ResponseScopedRoute against APIRoute")
    apps: dict[str, ASGIApp] = {
        "APIRoute": _apps.notes_app(APIRoute),
        "APIRoute (A/A copy)": _apps.notes_app(APIRoute),
        "ResponseScopedRoute": _apps.notes_app(_apps.route_class()),
    }
    samples = await _measure(group, apps, options)
    group.comparisons += [
        compare(
            "A/A control: APIRoute / the same APIRoute app",
            samples,
            "APIRoute (A/A copy)",
            "APIRoute",
            goal=None,
            note="reads about 1.00 when the method works; its spread is the noise",
            key="a/a",
        ),
        compare(
            "ResponseScopedRoute / APIRoute",
            samples,
            "ResponseScopedRoute",
            "APIRoute",
            goal=ROUTE_GOAL,
            key="route",
        ),
    ]
    return group


async def dependency_group(options: Options) -> Group:
    """One dependency that closes before the response, three ways."""
    group = Group("One dependency: response_scoped_dependency against FastAPI's yield")
    plain = "APIRoute + Depends (plain yield)"
    ours = "ResponseScopedRoute + response_scoped_dependency"
    dependency = _apps.resource_dependency()
    from fastapi import Depends

    apps: dict[str, ASGIApp] = {
        plain: _apps.notes_app(APIRoute, Depends(dependency)),
        ours: _apps.notes_app(_apps.route_class(), _apps.mintaka_scoped(dependency)),
    }
    scoped, scoped_name = _apps.fastapi_scoped(dependency)
    function_name = f"APIRoute + {scoped_name}"
    if function_name != plain:
        apps[function_name] = _apps.notes_app(APIRoute, scoped)
    samples = await _measure(group, apps, options)
    group.comparisons.append(
        compare(
            f"response_scoped_dependency / {plain}",
            samples,
            ours,
            plain,
            goal=None,
            key="dependency/plain",
        )
    )
    if function_name != plain:
        group.comparisons.append(
            compare(
                f"response_scoped_dependency / {scoped_name}",
                samples,
                ours,
                function_name,
                goal=DEPENDENCY_GOAL,
                key="dependency/function",
            )
        )
    else:
        group.comparisons.append(
            skipped(
                'response_scoped_dependency / Depends(scope="function")',
                'Depends(scope="function") needs FastAPI >= 0.121',
                key="dependency/function",
            )
        )
    return group


async def many_dependencies_group(options: Options, count: int) -> Group:
    """`count` distinct dependencies on one route, mintaka's against FastAPI's."""
    group = Group(f"{count} dependenc{'y' if count == 1 else 'ies'} on one route")
    dependencies = [_apps.resource_dependency() for _ in range(count)]
    theirs = [_apps.fastapi_scoped(dependency) for dependency in dependencies]
    scoped_name = theirs[0][1]
    fastapi_name = f"APIRoute + {count} x {scoped_name}"
    ours = f"ResponseScopedRoute + {count} x response_scoped_dependency"
    apps: dict[str, ASGIApp] = {
        fastapi_name: _apps.many_dependencies_app(APIRoute, [d for d, _ in theirs]),
        ours: _apps.many_dependencies_app(
            _apps.route_class(), [_apps.mintaka_scoped(d) for d in dependencies]
        ),
    }
    samples = await _measure(group, apps, options)
    has_scope = "scope" in scoped_name
    group.comparisons.append(
        compare(
            f"{count} x response_scoped_dependency / {count} x {scoped_name}",
            samples,
            ours,
            fastapi_name,
            goal=DEPENDENCY_GOAL if has_scope else None,
            key=f"dependencies/{count}",
        )
    )
    return group


async def middleware_group(options: Options) -> Group:
    """The ASGI middleware around a plain FastAPI app, against the app alone."""
    group = Group("ResponseScopeMiddleware around the app, against the app alone")
    try:
        middleware = attribute("mintaka.core.asgi", "ResponseScopeMiddleware", why="issue 11")
    except Missing as missing:
        return skip(group, str(missing))
    apps: dict[str, ASGIApp] = {
        "FastAPI app": _apps.notes_app(APIRoute),
        "ResponseScopeMiddleware(FastAPI app)": middleware(_apps.notes_app(APIRoute)),
    }
    samples = await _measure(group, apps, options)
    group.comparisons.append(
        compare(
            "ResponseScopeMiddleware / no middleware",
            samples,
            "ResponseScopeMiddleware(FastAPI app)",
            "FastAPI app",
            goal=MIDDLEWARE_GOAL,
            key="middleware",
        )
    )
    return group


async def session_group(options: Options, database: _apps.Database, *, sync: bool) -> Group:
    """A transactional SQLite session: mintaka's against FastAPI's recipe."""
    kind = "sync Session" if sync else "AsyncSession"
    group = Group(f"A transactional {kind} on SQLite: transactional_session against FastAPI")
    maker: Any = database.sessionmaker if sync else database.async_sessionmaker
    try:
        ours_dependency = _apps.mintaka_session(maker, sync=sync)
    except Missing as missing:
        return skip(group, str(missing))
    from fastapi import Depends

    recipe: Callable[[], Any] = (
        _apps.fastapi_sync_recipe(maker) if sync else _apps.fastapi_async_recipe(maker)
    )
    build = _apps.sync_session_app if sync else _apps.async_session_app
    scoped, scoped_name = _apps.fastapi_scoped(recipe)
    theirs = f"APIRoute + {scoped_name} session recipe"
    ours = "ResponseScopedRoute + transactional_session"
    apps: dict[str, ASGIApp] = {
        theirs: build(APIRoute, scoped),
        ours: build(_apps.route_class(), Depends(ours_dependency)),
    }
    samples = await _measure(group, apps, options)
    group.comparisons.append(
        compare(
            f"transactional_session ({kind}) / FastAPI's {scoped_name} recipe",
            samples,
            ours,
            theirs,
            goal=SYNC_SESSION_GOAL if sync else ASYNC_SESSION_GOAL,
            key=f"session/{'sync' if sync else 'async'}",
        )
    )
    return group


async def _groups(options: Options) -> list[Group]:
    groups = [await route_group(options), await dependency_group(options)]
    groups += [await many_dependencies_group(options, count) for count in DEPENDENCY_COUNTS]
    groups.append(await middleware_group(options))
    database = _apps.Database()
    try:
        groups.append(await session_group(options, database, sync=False))
        groups.append(await session_group(options, database, sync=True))
    finally:
        await database.dispose()
    return groups


def run(options: Options) -> dict[str, Any]:
    """Measure every group; the section for results.json."""
    groups = asyncio.run(_groups(options))
    return section(
        TITLE,
        "Raw ASGI calls in one event loop, no server; "
        f"{options.rounds(100)['rounds']} interleaved rounds of {options.size(200, 20)} requests "
        "per variant; times are medians of per-round means; ratios are medians of "
        "per-round ratios.",
        groups,
    )
