"""The audit of a Starlette app: it lists the routes, imports no FastAPI, and says what it needs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

AUDIT_A_STARLETTE_APP = textwrap.dedent(
    """
    import json, sys
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route
    from mintaka.introspect import audit_dependencies

    async def health(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/health", health), Mount("/api", routes=[Route("/x", health)])])
    audit = audit_dependencies(app)
    print(json.dumps({
        "routes": [[r.route, r.fastapi, list(r.dependencies)] for r in audit.routes],
        "findings": list(audit.findings),
        "notes": list(audit.notes),
        "imported": sorted(m for m in ("fastapi", "pydantic") if m in sys.modules),
    }))
    """
)


def audit_in_a_fresh_process() -> dict[str, list[object]]:
    import json

    result = subprocess.run(
        [sys.executable, "-c", AUDIT_A_STARLETTE_APP],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data: dict[str, list[object]] = json.loads(result.stdout)
    return data


def test_auditing_a_starlette_app_lists_its_routes_and_imports_no_fastapi() -> None:
    data = audit_in_a_fresh_process()

    assert data["routes"] == [["GET, HEAD /api/x", False, []], ["GET, HEAD /health", False, []]]
    assert data["findings"] == []
    assert data["imported"] == []


@pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is not None,
    reason="FastAPI is installed here; the FastAPI-free environment (hatch run starlette:test) "
    "checks what the audit says without it",
)
def test_without_fastapi_the_audit_says_plainly_that_fastapi_apps_need_it() -> None:
    (note,) = audit_in_a_fresh_process()["notes"]

    assert isinstance(note, str)
    assert note.startswith("FastAPI is not installed, so no route is a FastAPI route")
    assert "needs FastAPI for FastAPI apps" in note


@pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None, reason="FastAPI is not installed here"
)
def test_with_fastapi_installed_a_starlette_app_gets_no_note() -> None:
    assert audit_in_a_fresh_process()["notes"] == []
