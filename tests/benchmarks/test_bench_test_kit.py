"""`benchmarks/test_kit_cost.py` runs end to end, so it cannot rot. Timings are not asserted."""

import pytest

from tests.benchmarks._run import run_benchmark

pytest.importorskip("sqlmodel", reason="the benchmark's app is the SQLModel full-stack example")

pytestmark = [pytest.mark.integration]


def test_the_test_kit_benchmark_runs_every_variant_and_prints_the_ratio() -> None:
    command = ["--tests", "3", "--rounds", "1"]
    output = run_benchmark("benchmarks.test_kit_cost", *command, missed_is_fine=False, timeout=300)

    lines = output.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["kit", "recreate", "no"]
    assert lines[4].startswith("recreate / kit: ")
    assert lines[5].startswith("the kit's cost per test over a test with no database: ")
