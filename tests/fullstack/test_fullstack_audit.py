"""`mintaka-routes --audit` on the app before and after the adoption, and on the docs page.

Before: every route's `get_db` is a session that closes after the response (a
`session-after-response` warning, on FastAPI 0.118+ where that is when it closes). After:
every route opens a response scope and `get_db` closes in it; nothing to report.
"""

import re
from pathlib import Path

import pytest
from fastapi import __version__ as fastapi_version

from examples.fullstack import after, before
from mintaka.introspect import audit_dependencies
from mintaka.introspect._cli import main
from testing.asgi import fastapi_version as fastapi_minor
from testing.cli import run_main

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = REPO / "docs" / "examples" / "adopting"
PAGE = REPO / "docs" / "adopting.md"
# The page shows the users' collection routes only: the other eight say the same.
SHOWN_ROUTES = "^/(items|users/.)"
ROUTES = {
    "GET /items/",
    "POST /items/",
    "GET /items/{item_id}",
    "PUT /items/{item_id}",
    "DELETE /items/{item_id}",
    "GET /users/",
    "POST /users/",
    "GET /users/{user_id}",
    "PATCH /users/{user_id}",
    "DELETE /users/{user_id}",
}


def test_before_the_adoption_every_route_has_a_session_closed_by_fastapi() -> None:
    audit = audit_dependencies(before.app, include_docs_routes=False)

    assert {route.route for route in audit.routes} == ROUTES
    assert not any(route.response_scope for route in audit.routes)
    assert {(d.chain, d.closes) for r in audit.routes for d in r.dependencies} == {
        (("get_db",), "request")
    }
    if fastapi_minor() >= (0, 118):
        assert {(f.route, f.kind, f.chain) for f in audit.findings} == {
            (route, "session-after-response", ("get_db",)) for route in ROUTES
        }
    else:
        # FastAPI 0.106 to 0.117 closes a yield dependency before the response.
        assert audit.findings == ()


def test_after_the_adoption_the_audit_is_clean() -> None:
    audit = audit_dependencies(after.app, include_docs_routes=False)

    assert {route.route for route in audit.routes} == ROUTES
    assert all(route.response_scope for route in audit.routes)
    assert {(d.chain, d.closes) for r in audit.routes for d in r.dependencies} == {
        (("get_db",), "response")
    }
    assert audit.findings == ()


def shown_version(stage: str) -> str:
    text = (OUTPUTS / f"audit_{stage}.txt").read_text(encoding="utf-8")
    match = re.match(r"When each dependency closes \(FastAPI ([\d.]+)\)", text)
    assert match, f"audit_{stage}.txt does not start with the audit's title"
    return match.group(1)


def command_line(stage: str) -> list[str]:
    return [f"examples.fullstack.{stage}:app", "--audit", "--exclude", SHOWN_ROUTES]


@pytest.mark.parametrize("stage", ["before", "after"])
def test_the_adoption_page_includes_each_output_under_its_command(stage: str) -> None:
    page = PAGE.read_text(encoding="utf-8")
    shown = f"$ mintaka-routes {' '.join(command_line(stage)[:-1])} '{SHOWN_ROUTES}'"

    assert shown in page
    assert page.index(shown) < page.index(f'--8<-- "docs/examples/adopting/audit_{stage}.txt"')
    assert f"on FastAPI {shown_version(stage)}" in page


@pytest.mark.parametrize("stage", ["before", "after"])
def test_the_adoption_page_shows_what_the_audit_prints(stage: str) -> None:
    if fastapi_version != shown_version(stage):
        pytest.skip(f"the page shows the output on FastAPI {shown_version(stage)}")
    command = command_line(stage)
    result = run_main(main, *command, cwd=REPO)

    assert result.returncode == 0, result.stderr
    output = OUTPUTS / f"audit_{stage}.txt"
    assert result.stdout == output.read_text(encoding="utf-8"), (
        f"regenerate: mintaka-routes {' '.join(command)} > {output.relative_to(REPO)}"
    )
