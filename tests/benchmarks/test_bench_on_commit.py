"""`benchmarks/on_commit_cost.py` runs end to end, so it cannot rot.

It loads mintaka-core and mintaka-depends of an older commit from git; a clone without
that commit (a shallow one) cannot run it, and the test says so. Timing values are never
asserted; that the callbacks and the tasks ran alike is.
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


def test_the_on_commit_benchmark_prints_both_ratios() -> None:
    from benchmarks.on_commit_cost import BASELINE

    known = subprocess.run(
        ["git", "cat-file", "-e", f"{BASELINE}^{{commit}}"], cwd=ROOT, check=False
    )
    if known.returncode != 0:
        pytest.skip(f"this clone does not hold commit {BASELINE}, the benchmark's baseline")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.on_commit_cost", "--rounds", "4", "--requests", "3"],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a ratio above target
    runs = re.search(r"effects run: (\d+) by the tasks, (\d+) by the callbacks", done.stdout)
    assert runs is not None, done.stdout
    assert runs[1] == runs[2] != "0"
    ratios = re.findall(r"(?:BackgroundTasks|code at \w+) = (\d+\.\d+)", done.stdout)
    assert len(ratios) == 2, done.stdout
    assert all(float(ratio) > 0 for ratio in ratios)
