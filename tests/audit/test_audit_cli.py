"""`mintaka-routes --audit`, run the way CI runs it, with every exit code.

The command runs in this process (`testing.cli`): its `main` gets the arguments a shell
would pass, and its output and exit status are what a child process would give.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the audit of FastAPI routes needs FastAPI")

from mintaka.introspect._cli import main
from testing.asgi import fastapi_version
from testing.cli import Completed, run_main

pytestmark = pytest.mark.once

HERE = Path(__file__).parent
ERRORS = 2  # no-response-scope and teardown-after-resource in `everything`


def audit(*args: str, cwd: Path = HERE) -> Completed:
    return run_main(main, *args, cwd=cwd)


def test_the_table_groups_dependencies_by_route_and_lists_the_findings() -> None:
    result = audit("_audit_apps:everything", "--audit")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"When each dependency closes (FastAPI {fastapi_version()[0]}.")
    assert "POST /items  (_audit_apps.create_item; opens a response scope)" in out
    assert "GET /resource  (_audit_apps.read_resource; no response scope)" in out
    assert "  service → scoped_resource  response  before the response (response scope)" in out
    assert "error: POST /items: teardown-after-resource" in out
    assert "error: GET /resource: no-response-scope" in out
    assert "warning: GET /cache: two-scopes" in out
    as_json = audit("_audit_apps:everything", "--audit", "--json").stdout
    assert out.count("\n  fix: ") == len(json.loads(as_json)["findings"])


def test_strict_exits_1_on_an_error_finding_and_0_on_the_fixed_app() -> None:
    failing = audit("_audit_apps:everything", "--audit", "--strict")
    passing = audit("_audit_apps:everything_fixed", "--audit", "--strict")

    assert failing.returncode == 1, failing.stderr
    assert f"Findings: {ERRORS} errors" in failing.stdout
    assert passing.returncode == 0, passing.stderr
    assert "Findings: 0 errors, 0 warnings." in passing.stdout


def test_strict_passes_when_only_warnings_are_found() -> None:
    result = audit("_audit_apps:two_scopes", "--audit", "--strict")

    assert result.returncode == 0, result.stderr
    assert "Findings: 0 errors, 1 warning:" in result.stdout


def test_json_holds_routes_lifetimes_and_findings_for_tools() -> None:
    result = audit("_audit_apps:teardown_after_resource", "--audit", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "mintaka-routes-audit"
    assert [route["route"] for route in data["routes"]] == ["POST /items"]
    assert [(d["chain"], d["closes"]) for d in data["routes"][0]["dependencies"]] == [
        (["service"], "request"),
        (["service", "scoped_resource"], "response"),
    ]
    (finding,) = data["findings"]
    assert (finding["severity"], finding["kind"]) == ("error", "teardown-after-resource")


def test_markdown_is_a_pull_request_comment() -> None:
    result = audit("_audit_apps:teardown_after_resource", "--audit", "--format", "markdown")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### When each dependency closes")
    assert "- **error** `POST /items` (teardown-after-resource)" in result.stdout
    assert "| Dependency | Closes | When | Provides |" in result.stdout


def test_exclude_leaves_routes_out_of_the_audit() -> None:
    result = audit(
        "_audit_apps:everything", "--audit", "--strict", "--exclude", "^/(resource|items)"
    )

    assert result.returncode == 0, result.stderr
    assert "/resource" not in result.stdout
    assert "/items" not in result.stdout


def test_a_session_type_of_your_own_counts_as_a_session() -> None:
    result = audit(
        "_audit_apps:teardown_after_resource", "--audit", "--json", "--session-type", "builtins.str"
    )

    kinds = [f["kind"] for f in json.loads(result.stdout)["findings"]]
    # `service` provides a str and closes on the request scope.
    expected = ["session-after-response"] if fastapi_version() >= (0, 118) else []
    assert kinds == ["teardown-after-resource", *expected]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no_such_module:app", "--audit"), "cannot import module 'no_such_module'"),
        (("_audit_apps:missing", "--audit"), "has no attribute 'missing'"),
        (("_audit_apps:everything", "--strict"), "--strict applies to --audit"),
        (("_audit_apps:everything", "--session-type", "x.Y"), "--session-type applies to --audit"),
        (("_audit_apps:everything", "--audit", "--exclude", "("), "not a valid regular expression"),
        (("_audit_apps:everything", "--audit", "--check", "x.json"), "not allowed with argument"),
        (("_audit_apps:everything", "--with", "colour"), "unknown column(s) 'colour'"),
    ],
)
def test_bad_input_exits_2_with_the_reason(args: tuple[str, ...], message: str) -> None:
    result = audit(*args)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_an_app_module_that_fails_to_import_exits_2(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text('raise RuntimeError("no DATABASE_URL")\n', encoding="utf-8")

    result = audit("broken:app", "--audit", "--strict", cwd=tmp_path)

    assert result.returncode == 2
    assert "RuntimeError: no DATABASE_URL" in result.stderr
