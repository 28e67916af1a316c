"""Interleaved rounds and the statistics every section reports.

A round measures every variant once, in an order rotated from round to round, so that
drift of a loaded machine (CPU frequency, other processes, the garbage collector) hits
every variant alike. A comparison is the median of the per-round ratios: both variants
of a ratio ran in the same round, so most of the drift cancels out of it. The quartiles
of the per-round ratios and the ratio of the two medians show how much noise is left.
"""

from __future__ import annotations

import gc
import math
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

Measure = Callable[[], float]
"""Times one block of work and returns the seconds per unit (per request, per build...)."""

AsyncMeasure = Callable[[], Awaitable[float]]
"""The same, for work that runs in the event loop."""

Samples = dict[str, list[float]]
"""The per-round values of each variant, in round order."""


def _order(names: Sequence[str], round_number: int) -> list[str]:
    shift = round_number % len(names)
    return [*names[shift:], *names[:shift]]


def interleave(
    measures: Mapping[str, Measure], *, rounds: int, warmup: int = 1, collect: bool = True
) -> Samples:
    """Run `warmup + rounds` rounds of every measure; keep the values of the last `rounds`.

    With `collect`, the cycle collector runs before every block (skipped in quick runs,
    where it would take most of the time).
    """
    names = list(measures)
    samples: Samples = {name: [] for name in names}
    for round_number in range(warmup + rounds):
        for name in _order(names, round_number):
            # The collector stays on, as in production; each block starts from a clean heap.
            if collect:
                gc.collect()
            value = measures[name]()
            if round_number >= warmup:
                samples[name].append(value)
    return samples


async def interleave_async(
    measures: Mapping[str, AsyncMeasure], *, rounds: int, warmup: int = 1, collect: bool = True
) -> Samples:
    """[`interleave`][] for measures that run in the event loop."""
    names = list(measures)
    samples: Samples = {name: [] for name in names}
    for round_number in range(warmup + rounds):
        for name in _order(names, round_number):
            if collect:
                gc.collect()
            value = await measures[name]()
            if round_number >= warmup:
                samples[name].append(value)
    return samples


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, middle, high


def variant(
    name: str, values: Sequence[float], *, scale: float = 1e6, unit: str = "µs", **extra: Any
) -> dict[str, Any]:
    """One variant's row: the median and quartiles of its per-round values, in `unit`."""
    low, middle, high = _quartiles(values)
    return {
        "name": name,
        "unit": unit,
        "median": middle * scale,
        "q1": low * scale,
        "q3": high * scale,
        "rounds": len(values),
        **extra,
    }


def compare(
    label: str,
    samples: Samples,
    ours: str,
    baseline: str,
    *,
    goal: float | None,
    higher_is_better: bool = False,
    note: str = "",
    key: str = "",
) -> dict[str, Any]:
    """Compare `ours` with `baseline`: the median of the per-round ratios against `goal`.

    `goal` is a ceiling (the ratio must stay at or below it) unless `higher_is_better`,
    then a floor; `None` reports the ratio without a goal. `key` names the comparison
    the same way on every FastAPI version (its label names the baseline, which differs).
    """
    mine, theirs = samples[ours], samples[baseline]
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    low, ratio, high = _quartiles(ratios)
    met: bool | None = None
    if goal is not None:
        met = ratio >= goal if higher_is_better else ratio <= goal
    return {
        "key": key or label,
        "label": label,
        "ours": ours,
        "baseline": baseline,
        "ratio": ratio,
        "q1": low,
        "q3": high,
        "ratio_of_medians": statistics.median(mine) / statistics.median(theirs),
        "goal": goal,
        "goal_kind": "min" if higher_is_better else "max",
        "met": met,
        "note": note,
    }


def skipped(label: str, reason: str, *, key: str = "") -> dict[str, Any]:
    """A comparison that could not run here, and why."""
    return {"key": key or label, "label": label, "skipped": reason}


def finite(value: object) -> bool:
    """Whether `value` is a finite number (what a ratio must be)."""
    return isinstance(value, int | float) and math.isfinite(value)
