"""`benchmarks/idempotency_cost.py` runs end to end, so it cannot rot.

Timing values are never asserted; that every variant of both shapes answered 201 and keys
were stored is.
"""

import re

import pytest

from tests.benchmarks._run import assert_ratios, run_benchmark

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]


def test_the_idempotency_benchmark_prints_both_ratios_for_both_shapes() -> None:
    output = run_benchmark("benchmarks.idempotency_cost", "--rounds", "4", "--requests", "3")

    assert output.count("statuses: [[201], [201], [201]]") == 2, output
    stored = re.findall(r"keys stored: (\d+)", output)
    assert len(stored) == 2, output
    assert all(int(count) > 0 for count in stored)
    shapes = re.findall(r"(minimal|typical) (?:new key|replay)", output)
    assert shapes == ["minimal"] * 2 + ["typical"] * 2, output
    assert_ratios(r"(?:without|the endpoint) = (\d+\.\d+)", output, count=4)
