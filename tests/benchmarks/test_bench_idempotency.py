"""`benchmarks/idempotency_cost.py` runs end to end, so it cannot rot.

Timing values are never asserted; that every variant answered 201 and keys were stored is.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing.environ import untraced

pytest.importorskip("fastapi", reason="the benchmark measures FastAPI apps")

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def test_the_idempotency_benchmark_prints_both_ratios_for_both_shapes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.idempotency_cost", "--rounds", "4", "--requests", "3"],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a ratio above target
    assert done.stdout.count("statuses: [[201], [201], [201]]") == 2, done.stdout
    stored = re.findall(r"keys stored: (\d+)", done.stdout)
    assert len(stored) == 2, done.stdout
    assert all(int(count) > 0 for count in stored)
    ratios = re.findall(r"(minimal|typical) (?:new key|replay).*? = (\d+\.\d+)", done.stdout)
    assert [shape for shape, _ in ratios] == ["minimal"] * 2 + ["typical"] * 2, done.stdout
    assert all(float(ratio) > 0 for _, ratio in ratios)
