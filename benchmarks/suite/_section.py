"""What every section gets (the run's options) and gives back (a JSON-ready mapping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Options:
    """How big the run is and where it writes.

    `quick` shrinks every size so that the whole suite runs in seconds (the test suite
    runs it so that no benchmark can rot); its figures mean nothing.
    """

    quick: bool = False
    output: Path = Path("docs/benchmarks")
    fastapi_versions: tuple[str, ...] = ()
    scale: float = 1.0

    def pick(self, full: float, quick: float) -> float:
        """`full`, or `quick` in a quick run."""
        return quick if self.quick else full

    def size(self, full: int, quick: int) -> int:
        """A count: `full`, or `quick` in a quick run."""
        return quick if self.quick else full

    def rounds(self, full: int, *, warmup: int = 1) -> dict[str, Any]:
        """The arguments of `interleave`: `full` rounds after `warmup`.

        `full` is multiplied by `scale` (at least 3 rounds remain); a quick run has 2
        rounds and no warm-up.
        """
        if self.quick:
            return {"rounds": 2, "warmup": 0, "collect": False}
        return {"rounds": max(3, round(full * self.scale)), "warmup": warmup}


@dataclass
class Group:
    """A table of variants measured together, and the ratios between them."""

    title: str
    variants: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The group as written into results.json."""
        return {
            "title": self.title,
            "variants": self.variants,
            "comparisons": self.comparisons,
            "skipped": self.skipped,
        }


def section(title: str, method: str, groups: list[Group], **extra: Any) -> dict[str, Any]:
    """A section of results.json: its groups and how it was measured."""
    return {
        "title": title,
        "method": method,
        "groups": [group.as_json() for group in groups],
        **extra,
    }


def skip(group: Group, reason: str) -> Group:
    """Mark `group` as skipped and say why, on the console too."""
    print(f"  skipped: {group.title}: {reason}")
    group.skipped = reason
    return group
