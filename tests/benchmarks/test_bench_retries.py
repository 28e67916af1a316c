"""`benchmarks/retry_cost.py` runs end to end, so it cannot rot.

It loads mintaka-core and mintaka-depends of an older commit from git; a clone without
that commit (a shallow one) cannot run it, and the test says so. Timing values are never
asserted; that every conflicting write met its conflict and was retried is.
"""

import re

import pytest

from tests.benchmarks._run import assert_ratios, require_commit, run_benchmark

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]


def test_the_retry_benchmark_prints_both_ratios_and_the_one_retry_latency() -> None:
    from benchmarks.retry_cost import BASELINE

    require_commit(BASELINE)
    command = ["--rounds", "4", "--requests", "3", "--writes", "6"]
    output = run_benchmark("benchmarks.retry_cost", *command)

    assert_ratios(r"/ (?:code at \w+|retries=0) = (\d+\.\d+)", output)
    retried = re.search(r"medians of 6 each, (\d+) conflicts made", output)
    assert retried is not None, output
    assert retried[1] == "6"
