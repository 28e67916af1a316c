"""The benchmark suite runs end to end, so no benchmark can rot.

`python -m benchmarks --quick` (tiny sizes) runs in a subprocess and writes into a
temporary directory, never into docs/benchmarks. Checked: every section and group is
there, measured or skipped with a reason, every figure is a finite number, the report
and the plots are written. Timing values are never asserted: a quick run's figures mean
nothing.
"""

import importlib.util
import json
import math
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from testing.environ import untraced

pytest.importorskip("fastapi", reason="the benchmarks measure FastAPI apps")
pytest.importorskip("sqlalchemy", reason="the benchmarks measure SQLAlchemy sessions")

pytestmark = [pytest.mark.integration, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[2]
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture
def suite(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `benchmarks.suite` package (the repository root is not on sys.path in tests)."""
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.suite
    import benchmarks.suite._features
    import benchmarks.suite.plots
    import benchmarks.suite.versions

    return benchmarks.suite


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return output, done.stdout


@pytest.fixture(scope="module")
def results(quick_run: tuple[Path, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((quick_run[0] / "results.json").read_text())
    return loaded


def test_every_section_but_versions_is_written(results: dict[str, Any], suite: Any) -> None:
    # The versions section needs the hatch matrix envs: only --versions runs it.
    assert list(results["sections"]) == [name for name in suite.SECTIONS if name != "versions"]


def test_every_group_is_measured_or_says_why_not(results: dict[str, Any]) -> None:
    for name, section in results["sections"].items():
        assert section["groups"], name
        for group in section["groups"]:
            if group["skipped"]:
                assert group["skipped"].startswith(("needs ", "mintaka.")), group
                continue
            assert group["comparisons"], (name, group["title"])
            for variant in group["variants"]:
                assert math.isfinite(variant["median"]), variant
                assert variant["median"] > 0, variant


def test_every_figure_is_a_finite_number(results: dict[str, Any]) -> None:
    figures = 0
    for section in results["sections"].values():
        for group in section["groups"]:
            for comparison in group["comparisons"]:
                if "skipped" in comparison:
                    continue
                figure = comparison["ratio"] if "ratio" in comparison else comparison["value"]
                assert isinstance(figure, int | float), comparison
                assert math.isfinite(figure), comparison
                assert comparison["met"] in (True, False, None), comparison
                figures += 1
    assert figures >= 10


def test_the_ab_controls_are_measured(results: dict[str, Any]) -> None:
    labels = [
        comparison["label"]
        for section in results["sections"].values()
        for group in section["groups"]
        for comparison in group["comparisons"]
    ]
    assert sum(label.startswith("A/A control") for label in labels) == 3, labels


def test_the_machine_and_versions_are_recorded(results: dict[str, Any]) -> None:
    machine = results["machine"]
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["packages"]["fastapi"] == version("fastapi")
    assert machine["packages"]["starlette"] == version("starlette")
    assert machine["quick"] is True


def test_the_report_shows_every_section(
    results: dict[str, Any], quick_run: tuple[Path, str]
) -> None:
    report = (quick_run[0] / "results.md").read_text()
    for section in results["sections"].values():
        assert f"### {section['title']}" in report


def test_the_plots_are_drawn_where_matplotlib_is_installed(quick_run: tuple[Path, str]) -> None:
    output, stdout = quick_run
    drawn = sorted(path.name for path in output.glob("*.png"))
    if HAS_MATPLOTLIB:
        assert drawn == ["introspection.png", "memory.png", "ratios.png"]
    else:
        assert drawn == []
        assert "plots skipped: matplotlib is not installed" in stdout


def test_the_versions_table_has_a_row_per_comparison(
    results: dict[str, Any], suite: Any, tmp_path: Path
) -> None:
    # Two "versions" from the same run: the table and the plot of --versions, without hatch.
    by_version = {"1.0": results, "2.0": results}
    built = suite.versions.table(by_version)
    labels = {
        comparison["label"]
        for group in results["sections"]["per_request"]["groups"]
        for comparison in group["comparisons"]
    }
    assert {row[0] for row in built["rows"]} == labels
    assert all(row[1] == row[2] for row in built["rows"])
    if HAS_MATPLOTLIB:
        section = {
            "versions": {
                name: {"per_request": run["sections"]["per_request"]}
                for name, run in by_version.items()
            }
        }
        assert suite.plots.versions(section, tmp_path) == "versions.png"
        assert (tmp_path / "versions.png").stat().st_size > 0


def test_the_cost_profile_runs(suite: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.profile_costs", "50"],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    profiled = 4 if suite._features.has_function_scope() else 2
    assert done.stdout.count("Python function calls per request") == profiled, done.stdout
