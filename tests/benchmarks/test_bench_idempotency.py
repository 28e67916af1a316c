"""`benchmarks/idempotency_cost.py` runs end to end, so it cannot rot.

Timing values are never asserted; that every variant answered 201 and keys were stored is.
"""

import re

import pytest

from tests.benchmarks._run import assert_ratios, run_benchmark

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]


def test_the_idempotency_benchmark_prints_both_ratios() -> None:
    output = run_benchmark("benchmarks.idempotency_cost", "--rounds", "4", "--requests", "3")

    assert "statuses: [[201], [201], [201]]" in output, output
    stored = re.search(r"keys stored: (\d+)", output)
    assert stored is not None, output
    assert int(stored[1]) > 0
    assert_ratios(r"(?:without|the endpoint) = (\d+\.\d+)", output)
