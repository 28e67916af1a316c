"""`benchmarks/on_commit_cost.py` runs end to end, so it cannot rot.

It loads mintaka-core and mintaka-depends of an older commit from git; a clone without
that commit (a shallow one) cannot run it, and the test says so. Timing values are never
asserted; that the callbacks and the tasks ran alike is.
"""

import re

import pytest

from tests.benchmarks._run import assert_ratios, require_commit, run_benchmark

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]


def test_the_on_commit_benchmark_prints_both_ratios() -> None:
    from benchmarks.on_commit_cost import BASELINE

    require_commit(BASELINE)
    output = run_benchmark("benchmarks.on_commit_cost", "--rounds", "4", "--requests", "3")

    runs = re.search(r"effects run: (\d+) by the tasks, (\d+) by the callbacks", output)
    assert runs is not None, output
    assert runs[1] == runs[2] != "0"
    assert_ratios(r"(?:BackgroundTasks|code at \w+) = (\d+\.\d+)", output)
