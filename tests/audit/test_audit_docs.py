"""The audit guide shows the output the command prints today for the example app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the example app is a FastAPI app")

from fastapi import __version__ as fastapi_version

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "docs" / "examples" / "audit_output.txt"
GUIDE = REPO / "docs" / "guides" / "audit.md"
ARGS = ("docs.examples.audit_app:app", "--audit")
COMMAND = "mintaka-routes docs.examples.audit_app:app --audit"


def shown_version() -> str:
    match = re.match(r"When each dependency closes \(FastAPI ([\d.]+)\)", OUTPUT.read_text())
    assert match, f"{OUTPUT} does not start with the audit's title"
    return match.group(1)


def test_the_guide_includes_the_output_and_the_command_that_made_it() -> None:
    guide = GUIDE.read_text(encoding="utf-8")

    assert '--8<-- "docs/examples/audit_output.txt"' in guide
    assert f"$ {COMMAND}" in guide
    assert f"run on FastAPI {shown_version()}" in guide


@pytest.mark.skipif(
    fastapi_version != shown_version(),
    reason=f"the guide shows the output on FastAPI {shown_version()}; lifetimes differ by version",
)
def test_the_shown_output_is_what_the_command_prints() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mintaka.introspect", *ARGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == OUTPUT.read_text(encoding="utf-8"), (
        f"regenerate the guide's output: {COMMAND} > {OUTPUT.relative_to(REPO)}"
    )
    every_kind = {
        "no-response-scope",
        "teardown-after-resource",
        "two-scopes",
        "session-after-response",
    }
    assert set(re.findall(r"^(?:error|warning): .*: ([a-z-]+)$", result.stdout, re.M)) == every_kind
