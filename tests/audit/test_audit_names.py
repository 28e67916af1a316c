"""The audit names each dependency the way the user wrote it.

A dependency a factory made (`get_db = transactional_session(maker)`) is named by the
module-level variable it was assigned to, wherever in the app that variable is; a
function the user wrote keeps its own name; a dependency no variable holds keeps its
`__qualname__`. The app (`_named_apps`) is laid out like FastAPI's full-stack template:
the routes import `Annotated` aliases from a module that defines no endpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pytest

pytest.importorskip("fastapi", reason="the audit of FastAPI routes needs FastAPI")

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from mintaka.introspect import audit_dependencies
from mintaka.introspect._cli import main
from testing.cli import run_main
from tests.audit._named_apps import db
from tests.audit._named_apps import main as named

if TYPE_CHECKING:
    from mintaka.introspect import DependencyAudit, DependencyLifetime

HERE = Path(__file__).parent

# A second module-level name for the template's dependency: it must not rename it.
session_alias = db.get_db


def dependencies(audit: DependencyAudit, route: str) -> tuple[DependencyLifetime, ...]:
    (entry,) = (entry for entry in audit.routes if entry.route == route)
    return entry.dependencies


def declared(path: str) -> Any:
    """The callable the route at `path` declares as its one dependency."""
    (route,) = (r for r in named.router.routes if isinstance(r, APIRoute) and r.path == path)
    (dependant,) = route.dependant.dependencies
    return dependant.call


def test_a_dependency_a_factory_made_is_named_by_the_variable_it_was_assigned_to() -> None:
    (dependency,) = dependencies(audit_dependencies(named.app), "GET /orders")

    # The factory's function is defined in mintaka; the variable is in the app's db module.
    assert declared("/orders").__module__.startswith("mintaka.")
    assert dependency.chain == ("get_transaction",)
    assert dependency.dependency == f"{db.__name__}.get_transaction"
    assert dependency.closes == "response"


def test_a_dependency_no_variable_holds_keeps_its_qualname() -> None:
    (dependency,) = dependencies(audit_dependencies(named.app), "GET /inline")

    call = declared("/inline")
    assert dependency.chain == (call.__qualname__,)
    assert dependency.dependency == f"{call.__module__}.{call.__qualname__}"


def test_a_generator_the_user_wrote_keeps_its_own_name_whatever_else_holds_it() -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/aliased")
    def read_aliased(session: Annotated[Session, Depends(session_alias)]) -> None:
        return None

    audit = audit_dependencies(app)
    (template,) = dependencies(audit_dependencies(named.app), "GET /items")
    (aliased,) = dependencies(audit, "GET /aliased")

    assert (template.chain, template.dependency) == (("get_db",), f"{db.__name__}.get_db")
    assert (aliased.chain, aliased.dependency) == (("get_db",), f"{db.__name__}.get_db")


def test_a_response_scoped_wrapper_is_named_by_its_variable_and_its_origin_by_its_own() -> None:
    audit = audit_dependencies(named.app)

    assert [(d.chain, d.closes) for d in dependencies(audit, "GET /export")] == [
        (("export_buffer",), "response"),
        (("open_buffer",), "request"),
    ]
    (finding,) = [f for f in audit.findings if f.kind == "two-scopes"]
    assert finding.message.startswith("open_buffer is used under 2 scopes in this route")
    assert "as open_buffer and export_buffer" in finding.message


@pytest.mark.once
def test_the_command_names_them_the_same_way() -> None:
    result = run_main(main, "_named_apps.main:app", "--audit", "--json", cwd=HERE)

    assert result.returncode == 0, result.stderr
    routes = {route["route"]: route for route in json.loads(result.stdout)["routes"]}
    chains = {path: [d["chain"] for d in route["dependencies"]] for path, route in routes.items()}
    assert chains["GET /orders"] == [["get_transaction"]]
    assert chains["GET /items"] == [["get_db"]]
    assert chains["GET /export"] == [["export_buffer"], ["open_buffer"]]
    (orders,) = routes["GET /orders"]["dependencies"]
    assert orders["dependency"] == "_named_apps.db.get_transaction"
