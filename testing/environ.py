"""Environments for the child processes the heaviest tests start."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["untraced"]

# The variable through which coverage starts itself in every Python process the tests
# start (hatch test --cover and .ci/run set it).
_COVERAGE_START = "COVERAGE_PROCESS_START"


def untraced(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus `extra`, without what starts coverage in a child.

    The servers of the integration proofs and the quick benchmark run drive code that the
    in-process tests measure already; under coverage's tracer each costs about twice as
    much, and the benchmarks would measure the tracer.

    Example:
        ```python
        subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], env=untraced())
        ```
    """
    environ = {**os.environ, **(extra or {})}
    environ.pop(_COVERAGE_START, None)
    return environ
