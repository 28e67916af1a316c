"""Item 7: the per-request table on several FastAPI versions, one after the other.

Each version runs `python -m benchmarks --only per_request` in its environment of the
compatibility matrix (`compat.py3.11-VERSION`, created on first use; `newest` is the
`hatch-test.py3.11` environment), so every ratio is still measured side by side within
one process; the section collects the tables.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.suite._section import Group, Options, section, skip
from benchmarks.suite.report import verdict

TITLE = "Across FastAPI versions"

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "3.11"


def environment(version: str) -> str:
    """The hatch environment with FastAPI `version` (`newest`: the test suite's own)."""
    return f"hatch-test.py{PYTHON}" if version == "newest" else f"compat.py{PYTHON}-{version}"


def run_version(version: str, options: Options) -> dict[str, Any]:
    """Run the per-request section under FastAPI `version`; its results.json."""
    with tempfile.TemporaryDirectory(prefix=f"mintaka-bench-{version}-") as temporary:
        command = [
            "hatch",
            "run",
            f"{environment(version)}:python",
            "-m",
            "benchmarks",
            "--only",
            "per_request",
            "--no-plots",
            "--output",
            temporary,
        ]
        if options.quick:
            command.append("--quick")
        command += ["--scale", str(options.scale)]
        print(f"  {' '.join(command)}", flush=True)
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        results: dict[str, Any] = json.loads((Path(temporary) / "results.json").read_text())
    return results


def _cell(comparison: dict[str, Any] | None) -> str:
    if comparison is None:
        return "—"
    if "skipped" in comparison:
        return "n/a"
    mark = {"met": "", "—": ""}.get(verdict(comparison), " (missed)")
    return f"{comparison['ratio']:.3f}{mark}"


def table(by_version: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One row per comparison, one column per FastAPI version.

    Rows are matched by the comparison's key: the baseline of a dependency is
    `Depends(scope="function")` from 0.121 and a plain `yield` dependency before, so its
    label differs between versions. A row shows the label of the last version.
    """
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for version, results in by_version.items():
        for group in results["sections"]["per_request"]["groups"]:
            for comparison in group["comparisons"]:
                rows.setdefault(comparison["key"], {})[version] = comparison
    versions = list(by_version)
    return {
        "title": "Median of per-round ratios by FastAPI version",
        "header": ["comparison", *(f"FastAPI {v}" for v in versions)],
        "rows": [
            [list(cells.values())[-1]["label"], *(_cell(cells.get(v)) for v in versions)]
            for cells in rows.values()
        ],
    }


def run(options: Options) -> dict[str, Any]:
    """Run every version; the section for results.json."""
    by_version: dict[str, dict[str, Any]] = {}
    groups: list[Group] = []
    if shutil.which("hatch") is None:
        groups.append(skip(Group("every version"), "needs hatch on PATH"))
    else:
        for version in options.fastapi_versions:
            try:
                results = run_version(version, options)
                by_version[results["machine"]["packages"]["fastapi"]] = results
            except subprocess.CalledProcessError as error:
                tail = (error.stderr or "").strip().splitlines()[-3:]
                groups.append(skip(Group(f"FastAPI {version}"), " / ".join(tail)))
    return section(
        TITLE,
        "`python -m benchmarks --only per_request` in each `compat.py3.11-VERSION` "
        "environment (the newest FastAPI: `hatch-test.py3.11`); every ratio is measured "
        "side by side within that run.",
        groups,
        tables=[table(by_version)] if by_version else [],
        notes=[
            'Before FastAPI 0.121 there is no `Depends(scope="function")`: on those '
            "versions the dependency rows compare with a plain `yield` dependency, which "
            "closes before the response up to 0.117 and after it from 0.118; `n/a` marks "
            "a comparison that cannot be made there."
        ],
        versions={
            version: {
                "packages": results["machine"]["packages"],
                "per_request": results["sections"]["per_request"],
            }
            for version, results in by_version.items()
        },
    )
