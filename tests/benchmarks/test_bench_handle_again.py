"""`benchmarks/handle_again_cost.py` runs end to end, so it cannot rot.

It loads the middleware of an older commit from git; a clone without that commit (a
shallow one) cannot run it, and the test says so. Timing values are never asserted.
"""

import pytest

from tests.benchmarks._run import assert_ratios, require_commit, run_benchmark

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]


def test_the_handle_again_benchmark_prints_both_ratios() -> None:
    from benchmarks.handle_again_cost import BASELINE

    require_commit(BASELINE)
    output = run_benchmark("benchmarks.handle_again_cost", "--rounds", "4", "--requests", "3")

    assert_ratios(r"this middleware / baseline = (\d+\.\d+)", output)
