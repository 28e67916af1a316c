"""`benchmarks/replica_cost.py` runs end to end, so it cannot rot.

Timing values are never asserted; that every variant answered 200, that the routed reads
were served by the replica, and that the three ratios are printed is.
"""

from typing import TYPE_CHECKING

import pytest

from tests.benchmarks._run import assert_ratios, run_benchmark

if TYPE_CHECKING:
    from tests._replica_cluster import ReplicaCluster

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration, pytest.mark.replica]


def test_the_replica_benchmark_prints_its_three_ratios(cluster: "ReplicaCluster") -> None:
    output = run_benchmark(
        "benchmarks.replica_cost",
        *("--rounds", "4", "--requests", "3", "--warmup", "1"),
        *("--primary", cluster.primary_url, "--replica", cluster.replica_url),
    )

    assert "PostgreSQL primary and streaming replica, lag 0" in output, output
    assert_ratios(r"(?:on the primary|without) = (\d+\.\d+)", output, count=3)
