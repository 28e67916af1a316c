"""PNG plots of results.json, written beside it; skipped with a reason without matplotlib.

Each plot is recorded in its section (`"plot"`), so the report shows it under the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RATIO_SECTIONS = ("per_request", "http", "startup")
# The Benchmarks page shows each plot about at its own size: 9 inches at 110 dpi are 990 px,
# a little more than the page's text at a 1,280 px window (938 px), so 8-point labels
# read as 11.6 px there (tests/docs/test_browser.py checks the plots are not scaled down).
WIDTH_INCHES = 9.0
DPI = 110
LABEL_POINTS = 8


def _ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name in RATIO_SECTIONS:
        for group in results["sections"].get(name, {}).get("groups", []):
            found += [c for c in group["comparisons"] if "ratio" in c]
    return found


def _ratio_plot(axes: Axes, comparisons: list[dict[str, Any]]) -> None:
    labels = [c["label"] for c in comparisons]
    ratios = [c["ratio"] for c in comparisons]
    low = [c["ratio"] - c["q1"] for c in comparisons]
    high = [c["q3"] - c["ratio"] for c in comparisons]
    colours = [
        "tab:gray" if c["met"] is None else "tab:green" if c["met"] else "tab:red"
        for c in comparisons
    ]
    places = list(range(len(comparisons)))
    # Points, not bars: the ratios sit near 1, and a bar from 0 would hide the difference.
    for place, ratio, below, above, colour in zip(places, ratios, low, high, colours, strict=True):
        axes.errorbar(ratio, place, xerr=[[below], [above]], fmt="o", color=colour, capsize=3)
    for place, comparison in zip(places, comparisons, strict=True):
        if comparison["goal"] is not None:
            axes.plot([comparison["goal"]] * 2, [place - 0.4, place + 0.4], color="black")
    axes.axvline(1.0, color="tab:blue", linestyle=":", linewidth=1)
    axes.set_yticks(places, labels, fontsize=LABEL_POINTS)
    axes.invert_yaxis()
    axes.set_xlabel(
        "ratio (median of per-round ratios; line = quartiles, black tick = goal)",
        fontsize=LABEL_POINTS,
    )


def _figure(height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, height), layout="constrained")


def ratios(results: dict[str, Any], output: Path) -> str | None:
    """Every ratio with a baseline, against its goal."""
    comparisons = [c for c in _ratios(results) if "canned" not in c["baseline"]]
    if not comparisons:
        return None
    figure = _figure(1 + 0.32 * len(comparisons))
    _ratio_plot(figure.subplots(), comparisons)
    figure.suptitle("mintaka against the baseline, same run (green: goal met, red: missed)")
    figure.savefig(output / "ratios.png", dpi=DPI)
    return "ratios.png"


def introspection(section: dict[str, Any], output: Path) -> str | None:
    """Time per call against the number of routes, log-log."""
    figure = _figure(5)
    axes = figure.subplots()
    lines = 0
    for group in section["groups"]:
        if group["skipped"] or not group["variants"]:
            continue
        sizes = [int(v["name"].split()[0].replace(",", "")) for v in group["variants"]]
        axes.plot(sizes, [v["median"] for v in group["variants"]], marker="o", label=group["title"])
        lines += 1
    if not lines:
        return None
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("routes")
    axes.set_ylabel("ms per call (median)")
    axes.legend(fontsize=LABEL_POINTS)
    axes.set_title("Introspection: time per call grows linearly with the routes")
    figure.savefig(output / "introspection.png", dpi=DPI)
    return "introspection.png"


def memory(section: dict[str, Any], output: Path) -> str | None:
    """Traced memory at every checkpoint."""
    curve = section.get("curve") or []
    if not curve:
        return None
    figure = _figure(4)
    axes = figure.subplots()
    start = curve[0]["traced_bytes"]
    axes.plot(
        [point["requests"] for point in curve],
        [(point["traced_bytes"] - start) / 1024 for point in curve],
        marker=".",
    )
    axes.axhline(1024, color="tab:red", linestyle="--", label="goal: growth under 1 MiB")
    axes.set_xlabel("requests")
    axes.set_ylabel("traced memory growth (KiB)")
    axes.legend()
    axes.set_title("Memory: a response-scoped route with a transactional session")
    figure.savefig(output / "memory.png", dpi=DPI)
    return "memory.png"


def versions(section: dict[str, Any], output: Path) -> str | None:
    """The per-request ratios, one panel per FastAPI version."""
    by_version = section.get("versions") or {}
    if not by_version:
        return None
    panels = []
    for version, results in by_version.items():
        found = [c for group in results["per_request"]["groups"] for c in group["comparisons"]]
        panels.append((version, [c for c in found if "ratio" in c]))
    height = max(len(comparisons) for _, comparisons in panels)
    figure = _figure(1 + 0.3 * height * len(panels))
    column = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for axes, (version, comparisons) in zip(column, panels, strict=True):
        _ratio_plot(axes, comparisons)
        axes.set_title(f"FastAPI {version}", fontsize=LABEL_POINTS + 2)
    figure.savefig(output / "versions.png", dpi=DPI)
    return "versions.png"


def draw(results: dict[str, Any], output: Path) -> None:
    """Draw every plot the results have data for; note each file in its section."""
    try:
        import matplotlib as mpl
    except ImportError:
        print("plots skipped: matplotlib is not installed (hatch run bench:all has it)")
        return
    mpl.use("Agg")
    sections = results["sections"]
    results["plot"] = ratios(results, output)
    for name, draw_section in {
        "introspection": introspection,
        "memory": memory,
        "versions": versions,
    }.items():
        if name in sections:
            drawn = draw_section(sections[name], output)
            if drawn:
                sections[name]["plot"] = drawn
