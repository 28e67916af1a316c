"""`benchmarks/retry_cost.py` runs end to end, so it cannot rot.

It loads mintaka-core and mintaka-depends of an older commit from git; a clone without
that commit (a shallow one) cannot run it, and the test says so. Timing values are never
asserted; that every conflicting write met its conflict and was retried is.
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


def test_the_retry_benchmark_prints_both_ratios_and_the_one_retry_latency() -> None:
    from benchmarks.retry_cost import BASELINE

    known = subprocess.run(
        ["git", "cat-file", "-e", f"{BASELINE}^{{commit}}"], cwd=ROOT, check=False
    )
    if known.returncode != 0:
        pytest.skip(f"this clone does not hold commit {BASELINE}, the benchmark's baseline")
    command = ["--rounds", "4", "--requests", "3", "--writes", "6"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.retry_cost", *command],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a ratio above target
    ratios = re.findall(r"/ (?:code at \w+|retries=0) = (\d+\.\d+)", done.stdout)
    assert len(ratios) == 2, done.stdout
    assert all(float(ratio) > 0 for ratio in ratios)
    retried = re.search(r"medians of 6 each, (\d+) conflicts made", done.stdout)
    assert retried is not None, done.stdout
    assert retried[1] == "6"
