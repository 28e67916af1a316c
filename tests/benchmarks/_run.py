"""Runs a benchmark script end to end with tiny rounds, for the tests that keep it from rot.

Each script runs in a subprocess from the repository root, without coverage's tracer (the
benchmark would measure it). Timing values are never asserted: only that the script ran,
and what its output says it did.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing.environ import untraced

ROOT = Path(__file__).resolve().parents[2]
MISSED = 1
"""The exit status of a benchmark that ran but missed a target (a tiny run may), not a crash."""


def require_commit(commit: str) -> None:
    """Skip the test when this clone (a shallow one) does not hold the baseline `commit`."""
    known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, check=False)
    if known.returncode != 0:
        pytest.skip(f"this clone does not hold commit {commit}, the benchmark's baseline")


def run_benchmark(
    module: str, *arguments: str, missed_is_fine: bool = True, timeout: float = 120
) -> str:
    """`python -m <module> <arguments>`'s output, asserting it exited 0 (or `MISSED`)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env=untraced(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    allowed = (0, MISSED) if missed_is_fine else (0,)
    assert done.returncode in allowed, done.stdout + done.stderr
    return done.stdout


def assert_ratios(pattern: str, output: str, count: int = 2) -> None:
    """`output` prints `count` ratios, the group of `pattern`, each a positive number."""
    ratios = re.findall(pattern, output)
    assert len(ratios) == count, output
    assert all(float(ratio) > 0 for ratio in ratios)
