"""`benchmarks/test_kit_cost.py` runs end to end, so it cannot rot. Timings are not asserted."""

import subprocess
import sys
from pathlib import Path

import pytest

from testing.environ import untraced

pytest.importorskip("sqlmodel", reason="the benchmark's app is the SQLModel full-stack example")

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def test_the_test_kit_benchmark_runs_every_variant_and_prints_the_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.test_kit_cost", "--tests", "3", "--rounds", "1"],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["kit", "recreate", "no"]
    assert lines[4].startswith("recreate / kit: ")
    assert lines[5].startswith("the kit's cost per test over a test with no database: ")
