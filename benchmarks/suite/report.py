"""results.json as Markdown: the console report and docs/benchmarks/results.md.

The docs page includes results.md, so the page shows exactly the figures of the JSON.
"""

from __future__ import annotations

from typing import Any

_STANDARD = {"name", "unit", "median", "q1", "q3", "rounds"}
_COLUMN_NAMES = {
    "garbage_per_request": "objects/request left to the cycle collector",
    "requests": "requests per round",
    "fastapi_or_pydantic_loaded": "FastAPI or pydantic modules loaded",
    "p50_ms": "p50 latency (ms)",
    "calls_per_route": "Python calls per route (cProfile)",
    "p99_ms": "p99 latency (ms)",
}


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 0.1 else 3
    return "0" if value == 0 else f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def verdict(comparison: dict[str, Any]) -> str:
    """`met`, `missed` or `—` (no goal); a skipped comparison says why."""
    if "skipped" in comparison:
        return f"skipped: {comparison['skipped']}"
    met = comparison.get("met")
    if met is None:
        return "—"
    return "met" if met else "**missed**"


def _goal(comparison: dict[str, Any]) -> str:
    goal = comparison.get("goal")
    if goal is None:
        return "—"
    return f"{'≥' if comparison.get('goal_kind') == 'min' else '≤'} {goal:.2f}"


def variants_table(variants: list[dict[str, Any]]) -> list[str]:
    """The variants of a group: median, quartiles, and whatever else each one recorded."""
    if not variants:
        return []
    extra = [key for key in variants[0] if key not in _STANDARD]
    unit = variants[0].get("unit", "")
    header = ["variant", f"median ({unit})", "quartiles", *(_COLUMN_NAMES.get(k, k) for k in extra)]
    rows = [
        [
            v["name"],
            _number(v["median"]),
            f"{_number(v['q1'])} to {_number(v['q3'])}",
            *(_number(v.get(k)) for k in extra),
        ]
        for v in variants
    ]
    return _table(header, rows)


def comparisons_table(comparisons: list[dict[str, Any]]) -> list[str]:
    """Each ratio: the median of the per-round ratios, its quartiles, the goal, the verdict."""
    if not comparisons:
        return []
    header = ["comparison", "median of per-round ratios", "quartiles", "ratio of medians"]
    header += ["goal", ""]
    rows = []
    for c in comparisons:
        if "skipped" in c:
            rows.append([c["label"], "—", "—", "—", "—", verdict(c)])
            continue
        if "value" in c:  # a single figure against a goal, not a ratio
            goal = c.get("goal_text") or _number(c.get("goal"))
            rows.append([c["label"], f"**{_number(c['value'])}**", "—", "—", goal, verdict(c)])
            continue
        note = f" ({c['note']})" if c.get("note") else ""
        rows.append(
            [
                c["label"] + note,
                f"**{c['ratio']:.3f}**",
                f"{c['q1']:.3f} to {c['q3']:.3f}",
                f"{c['ratio_of_medians']:.3f}",
                _goal(c),
                verdict(c),
            ]
        )
    return _table(header, rows)


def section_markdown(name: str, section: dict[str, Any], level: int = 2) -> list[str]:
    """One section: its title, how it was measured, every group's tables, its notes."""
    hashes = "#" * level
    lines = [f"{hashes} {section['title']}", ""]
    if section.get("skipped"):
        return [*lines, f"Skipped: {section['skipped']}", ""]
    lines += [section["method"], ""]
    run = section.get("run")
    if run:
        lines += [
            f"Run {run['date']} ({run['seconds']} s; load average {run['load_average_at_start']}"
            f" at the start, {run['load_average_at_end']} at the end"
            + (f"; rounds scaled by {run['scale']}" if run["scale"] != 1 else "")
            + ").",
            "",
        ]
    for group in section.get("groups", []):
        lines += [f"{hashes}# {group['title']}", ""]
        if group.get("skipped"):
            lines += [f"Skipped: {group['skipped']}", ""]
            continue
        lines += variants_table(group["variants"])
        lines += comparisons_table(group["comparisons"])
    for table in section.get("tables", []):
        lines += [f"{hashes}# {table['title']}", ""]
        lines += _table(table["header"], table["rows"])
    for note in section.get("notes", []):
        lines.append(f"- {note}")
    if section.get("notes"):
        lines.append("")
    if section.get("plot"):
        lines += [f"![{section['title']}]({section['plot']})", ""]
    return lines


def machine_markdown(machine: dict[str, Any]) -> list[str]:
    """Where and with what the figures were measured."""
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v)
    load = machine.get("load_average_at_start")
    return [
        f"Measured {machine['date']} on {machine['cpu']} ({machine['cpus']} CPUs, "
        f"{machine['system']}), {machine['python_implementation']} {machine['python']}; "
        f"{packages}. Load average at the start: {load}"
        + (" — a quick run: the figures mean nothing." if machine.get("quick") else "."),
        "",
    ]


def goals(results: dict[str, Any]) -> list[str]:
    """Every comparison that has a goal, met or missed, in one table."""
    rows = []
    for section in results["sections"].values():
        for group in section.get("groups", []):
            for c in group["comparisons"]:
                if c.get("goal") is None and "skipped" not in c:
                    continue
                if "skipped" in c:
                    figure = "—"
                elif "ratio" in c:
                    figure = f"{c['ratio']:.3f}"
                else:
                    figure = _number(c.get("value"))
                goal = "—" if "skipped" in c else c.get("goal_text") or _goal(c)
                rows.append([section["title"], c["label"], figure, goal, verdict(c)])
        rows += [
            [section["title"], group["title"], "—", "—", f"skipped: {group['skipped']}"]
            for group in section.get("groups", [])
            if group.get("skipped")
        ]
    return _table(["section", "comparison", "figure", "goal", ""], rows)


def markdown(results: dict[str, Any]) -> str:
    """The whole report: the machine, every goal, then every section in order."""
    lines = ["<!-- Written by `python -m benchmarks` from results.json; do not edit. -->", ""]
    lines += machine_markdown(results["machine"])
    lines += ["### Every goal", "", *goals(results)]
    if results.get("plot"):
        lines += [f"![Every ratio against its goal]({results['plot']})", ""]
    for name, section in results["sections"].items():
        lines += section_markdown(name, section, level=3)
    return "\n".join(lines).rstrip() + "\n"
