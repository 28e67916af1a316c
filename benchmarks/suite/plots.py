"""PNG plots of results.json, beside it; skipped with a reason when matplotlib is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def draw(results: dict[str, Any], output: Path) -> None:
    """Draw every plot the results have data for; note each file in its section."""
    try:
        import matplotlib as mpl
    except ImportError:
        print("plots skipped: matplotlib is not installed (hatch run bench:all has it)")
        return
    mpl.use("Agg")
    del output
