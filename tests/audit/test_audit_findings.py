"""Each finding of the dependency audit comes from a real app, is real, and its fix clears it.

The apps are in `_audit_apps.py`. For each finding the test shows what the audit reports,
that the app really misbehaves that way (observed at the ASGI `send` callable), and that
the corrected twin has no finding. The lifetimes are those of the installed FastAPI, so
this runs on every FastAPI cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("fastapi", reason="the audit of FastAPI routes needs FastAPI")

from fastapi import FastAPI

from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.introspect import audit_dependencies
from testing.asgi import START, call, fastapi_version
from tests.audit import _audit_apps as apps
from tests.audit._named_apps import db
from tests.audit._named_apps import main as named

if TYPE_CHECKING:
    from mintaka.introspect import DependencyAudit

pytestmark = pytest.mark.anyio

CLOSES_AFTER_RESPONSE = fastapi_version() >= (0, 118)


def kinds(audit: DependencyAudit) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(f.severity, f.kind, f.route, f.chain) for f in audit.findings]


@pytest.fixture(autouse=True)
def clear_events() -> None:
    apps.EVENTS.clear()
    db.EVENTS.clear()


async def test_a_response_scoped_dependency_without_a_response_scope_is_an_error() -> None:
    assert kinds(audit_dependencies(apps.no_response_scope)) == [
        ("error", "no-response-scope", "GET /resource", ("scoped_resource",))
    ]
    failed = await call(apps.no_response_scope, "/resource", raises=Exception)
    assert failed.status == 500
    assert "ResponseScopeError" in type(failed.raised).__name__

    assert kinds(audit_dependencies(apps.no_response_scope_fixed)) == []
    assert (await call(apps.no_response_scope_fixed, "/resource")).status == 200


async def test_a_teardown_after_the_resource_closed_is_an_error_on_every_version() -> None:
    audit = audit_dependencies(apps.teardown_after_resource)

    assert kinds(audit) == [
        ("error", "teardown-after-resource", "POST /items", ("service", "scoped_resource"))
    ]
    assert "scoped_service" not in audit.findings[0].fix
    assert "response_scoped_dependency" in audit.findings[0].fix
    await call(apps.teardown_after_resource, "/items", method="POST")
    late = apps.EVENTS.index("resource close") < apps.EVENTS.index("service close")
    # From 0.118 it really runs late; before, only an upgrade away, which the message says.
    assert late is CLOSES_AFTER_RESPONSE
    if not CLOSES_AFTER_RESPONSE:
        assert "from FastAPI 0.118 on" in audit.findings[0].message

    apps.EVENTS.clear()
    assert kinds(audit_dependencies(apps.teardown_after_resource_fixed)) == []
    await call(apps.teardown_after_resource_fixed, "/items", method="POST")
    assert apps.EVENTS.index("service close") < apps.EVENTS.index("resource close")


@pytest.mark.parametrize(
    ("app", "route"),
    [
        (apps.used_twice, "PUT /items"),
        (apps.app_level, "GET /app/ping"),
        (apps.inclusion_level, "GET /inc/ping"),
        (apps.router_level, "GET /ping"),
        (apps.route_level, "GET /ping"),
        (apps.mounted, "POST /sub/items"),
    ],
    ids=["used-twice", "app", "include_router", "router", "route", "mounted-app"],
)
def test_dependencies_of_every_level_and_mounted_apps_are_audited(app: Any, route: str) -> None:
    audit = audit_dependencies(app)

    assert kinds(audit) == [
        ("error", "teardown-after-resource", route, ("service", "scoped_resource"))
    ]
    (entry,) = [r for r in audit.routes if r.route == route]
    assert [(d.chain, d.closes) for d in entry.dependencies] == [
        (("service",), "request"),
        (("service", "scoped_resource"), "response"),
    ]


async def test_one_dependency_under_two_scopes_is_a_warning_and_really_two_instances() -> None:
    audit = audit_dependencies(apps.two_scopes)

    assert kinds(audit) == [("warning", "two-scopes", "GET /cache", ("open_cache",))]
    assert "request, response" in audit.findings[0].message
    assert (await call(apps.two_scopes, "/cache")).json() is False

    assert kinds(audit_dependencies(apps.two_scopes_fixed)) == []
    assert (await call(apps.two_scopes_fixed, "/cache")).json() is True


async def test_a_session_closing_after_the_response_is_a_warning_where_it_does() -> None:
    audit = audit_dependencies(apps.session_after_response)
    exchange = await call(apps.session_after_response, "/notes", events=apps.EVENTS)
    after = exchange.before(START, "session close")

    assert after is CLOSES_AFTER_RESPONSE
    expected = [("warning", "session-after-response", "GET /notes", ("plain_session",))]
    assert kinds(audit) == (expected if CLOSES_AFTER_RESPONSE else [])
    (entry,) = audit.routes
    assert entry.dependencies[0].provides == "AsyncSession"

    assert kinds(audit_dependencies(apps.session_after_response_fixed)) == []
    apps.EVENTS.clear()
    fixed = await call(apps.session_after_response_fixed, "/notes", events=apps.EVENTS)
    assert fixed.before("session close", START)


async def test_the_session_warning_holds_for_a_teardown_that_closes_and_one_that_commits() -> None:
    audit = audit_dependencies(named.app)
    found = {f.route: f for f in audit.findings if f.kind == "session-after-response"}
    closes = await call(named.app, "/items", events=db.EVENTS)
    commits = await call(named.app, "/items", method="POST", events=[])

    assert closes.before(START, "session close") is CLOSES_AFTER_RESPONSE
    assert commits.status == 200
    assert "session commit" in db.EVENTS
    if not CLOSES_AFTER_RESPONSE:
        assert found == {}
        return
    # FastAPI's full-stack template: `with Session(engine) as session: yield session`.
    assert set(found) == {"GET /items", "POST /items"}
    for finding in found.values():
        assert "closing it, or committing it if the teardown commits" in finding.message
        assert "runs after the response" in finding.message
        assert "a commit there is unseen by the client" in finding.message.lower()
        assert "keeps the session open" in finding.message
        assert "a commit in its teardown happens" not in finding.message


def test_routes_and_findings_sort_by_path_then_by_their_methods() -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def health(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = FastAPI()  # its documentation routes are Starlette routes: "GET, HEAD /docs"
    app.include_router(apps.no_scope_router, prefix="/a")
    app.include_router(apps.no_scope_router, prefix="/e")
    app.router.routes.append(Route("/c", health))

    audit = audit_dependencies(app)

    assert [entry.route for entry in audit.routes] == [
        "GET /a/resource",
        "GET, HEAD /c",
        "GET, HEAD /docs",
        "GET, HEAD /docs/oauth2-redirect",
        "GET /e/resource",
        "GET, HEAD /openapi.json",
        "GET, HEAD /redoc",
    ]
    assert [f.route for f in audit.findings] == ["GET /a/resource", "GET /e/resource"]
    without = audit_dependencies(app, include_docs_routes=False)
    assert [entry.route for entry in without.routes] == [
        "GET /a/resource",
        "GET, HEAD /c",
        "GET /e/resource",
    ]


def test_the_transactional_session_provides_a_session_closed_on_the_response_scope() -> None:
    audit = audit_dependencies(apps.transactional)

    assert kinds(audit) == []
    (entry,) = audit.routes
    assert [(d.closes, d.provides) for d in entry.dependencies] == [("response", "AsyncSession")]


def test_every_closing_time_is_named_for_the_installed_version() -> None:
    (entry,) = audit_dependencies(apps.teardown_after_resource).routes
    when = {d.closes: d.when for d in entry.dependencies}

    assert when["response"] == "before the response (response scope)"
    if CLOSES_AFTER_RESPONSE:
        assert when["request"].startswith("after the response and background tasks")
    else:
        assert when["request"].startswith("before the response, in the route handler")


def test_starlette_routes_are_listed_without_dependencies_and_never_flagged() -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def health(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.router.routes.append(Route("/health", health))
    audit = audit_dependencies(app)

    assert [(r.route, r.fastapi, r.dependencies) for r in audit.routes] == [
        ("GET, HEAD /health", False, ())
    ]
    assert audit.findings == ()


@pytest.mark.skipif(not apps.FUNCTION_SCOPE, reason="Depends(scope=...) is FastAPI 0.121+")
async def test_fastapi_function_scope_is_read_and_checked_like_the_others() -> None:
    audit = audit_dependencies(apps.function_scope)

    assert kinds(audit) == [
        ("error", "teardown-after-resource", "GET /both", ("service", "scoped_resource")),
        ("warning", "two-scopes", "GET /both", ("open_cache",)),
    ]
    assert "(function scope)" in audit.findings[0].message
    assert "function, request" in audit.findings[1].message
    assert {(d.chain[-1], d.closes) for d in audit.routes[0].dependencies} == {
        ("open_cache", "function"),
        ("open_cache", "request"),
        ("service", "function"),
        ("scoped_resource", "response"),
    }
    assert (await call(apps.function_scope, "/both")).json() is False
    assert apps.EVENTS.index("resource close") < apps.EVENTS.index("service close")


def test_an_app_wrapped_in_the_response_scope_middleware_opens_the_scope() -> None:
    middleware: Any = ResponseScopeMiddleware

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(apps.no_scope_router)
    before = audit_dependencies(app)
    app.add_middleware(middleware)

    assert [f.kind for f in before.findings] == ["no-response-scope"]
    assert audit_dependencies(app).findings == ()
    assert audit_dependencies(middleware(apps.no_response_scope)).findings == ()
