"""The measurements the "Why mintaka" page cites hold on the installed FastAPI version."""

from __future__ import annotations

import subprocess
import sys

import fastapi
import pytest
from packaging.version import Version

from tests.docs._console import EXAMPLES, import_file

SCRIPT = EXAMPLES / "why" / "measure_fastapi.py"
measure = import_file(SCRIPT, "docs_why_measure_fastapi")
FASTAPI = Version(fastapi.__version__)


def test_mintaka_commits_before_the_response_and_never_reports_a_failed_commit_as_201() -> None:
    assert measure.measure("mintaka", fail=False).commit == "before the response"
    assert measure.measure("mintaka", fail=False).status == 201
    assert measure.measure("mintaka", fail=True).status == 500


def test_fastapi_default_yield_is_as_the_page_says_for_this_version() -> None:
    ok = measure.measure("default yield", fail=False)
    failed = measure.measure("default yield", fail=True)
    assert ok.status == 201
    if Version("0.118") <= FASTAPI:
        assert ok.commit == "after the response"
        assert failed.status == 201  # the false success
        assert failed.events[-1] == "error raised to the server"
    else:
        assert ok.commit == "before the response"
        assert failed.status == 500


def test_fastapi_function_scope_is_as_the_page_says_for_this_version() -> None:
    kinds = measure.kinds()
    if Version("0.121") > FASTAPI:
        assert 'Depends(scope="function")' not in kinds
        return
    assert measure.measure('Depends(scope="function")', fail=False).commit == (
        "before the response"
    )
    assert measure.measure('Depends(scope="function")', fail=True).status == 500


def test_the_output_quoted_on_the_page_is_what_the_script_prints() -> None:
    if fastapi.__version__ != "0.121.0":
        pytest.skip("the page quotes the output on FastAPI 0.121.0; that matrix cell checks it")
    printed = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True
    ).stdout
    assert printed == (EXAMPLES / "why" / "measured-0.121.0.txt").read_text()


@pytest.mark.packaging
def test_the_other_libraries_behave_as_the_page_says() -> None:
    """Installs fastapi-sqla, advanced-alchemy and Litestar into a throwaway venv (once per
    CI run, with the packaging tests) and compares with the output the page quotes."""
    others = import_file(EXAMPLES / "why" / "measure_others.py", "docs_why_measure_others")
    recorded = (EXAMPLES / "why" / "measured-others.txt").read_text().splitlines()
    assert others.measure() == recorded
    by_library = dict(line.split(": ", 1) for line in recorded)
    # the page's claims, cell by cell
    assert by_library["fastapi-sqla"].endswith("failed commit ['response.start 500']")
    assert by_library["advanced-alchemy FastAPI (autocommit)"].startswith(
        "success ['response.start 201', 'commit']"
    )
    assert by_library["Litestar + advanced-alchemy (autocommit)"] == (
        "success ['commit', 'response.start 201']; failed commit ['response.start 201']"
    )
