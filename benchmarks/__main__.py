"""Run the benchmarks side by side and write docs/benchmarks/ (results.json, results.md, plots).

    python -m benchmarks                  # everything, full sizes (hatch run bench:all)
    python -m benchmarks --quick          # tiny sizes: proves every script runs
    python -m benchmarks --only startup   # one section, merged into the existing results
    python -m benchmarks --versions       # also the per-request table on several FastAPIs

Every figure is a ratio against a baseline measured in the same run, in interleaved
rounds; see the docs' Benchmarks page for what each section measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.suite import SECTIONS, load
from benchmarks.suite._machine import describe, load_average
from benchmarks.suite._section import Options
from benchmarks.suite.report import markdown, section_markdown

DEFAULT_OUTPUT = Path("docs/benchmarks")
DEFAULT_VERSIONS = ("0.110.0", "0.121.0", "0.137.0", "newest")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes; figures mean nothing")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="where results.json etc. go"
    )
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, metavar="SECTION", help=f"one of {SECTIONS}"
    )
    parser.add_argument(
        "--versions",
        nargs="*",
        metavar="VERSION",
        help="run the per-request section on these FastAPI versions too, through the "
        f"compat matrix envs (default {' '.join(DEFAULT_VERSIONS)})",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the number of rounds (0.3: a shorter, noisier run)",
    )
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: write results.md and the plots again from results.json",
    )
    return parser.parse_args(argv)


def _previous(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"sections": {}}
    return loaded


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    versions: tuple[str, ...] = ()
    if args.versions is not None:
        versions = tuple(args.versions) or DEFAULT_VERSIONS
    options = Options(
        quick=args.quick, output=args.output, fastapi_versions=versions, scale=args.scale
    )
    names = [] if args.render else list(args.only or SECTIONS)
    if "versions" in names and not versions:
        names.remove("versions")
    args.output.mkdir(parents=True, exist_ok=True)
    results_path = args.output / "results.json"
    # A partial run (--only) replaces its sections and keeps the others of the last run.
    partial = bool(args.only or args.render)
    results = _previous(results_path) if partial else {"sections": {}}
    machine = describe()
    machine["quick"] = args.quick
    machine["scale"] = args.scale
    # A partial run keeps the machine of the full run; each section records its own run.
    machine = results.setdefault("machine", machine) if partial else machine
    results["machine"] = machine
    sections: dict[str, Any] = results["sections"]
    for name in names:
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        load_at_start = load_average()
        section = load(name)(options)
        section["run"] = {
            "date": describe()["date"],
            "seconds": round(time.perf_counter() - started, 1),
            "scale": args.scale,
            "quick": args.quick,
            "load_average_at_start": load_at_start,
            "load_average_at_end": load_average(),
        }
        sections[name] = section
        print("\n".join(section_markdown(name, section)), flush=True)
    # Keep the report in the order of SECTIONS, whatever order the runs came in.
    results["sections"] = {name: sections[name] for name in SECTIONS if name in sections}
    if not partial:
        machine["load_average_at_end"] = load_average()
    if not args.no_plots:
        from benchmarks.suite.plots import draw

        draw(results, args.output)
    results_path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    (args.output / "results.md").write_text(markdown(results))
    print(f"\nwrote {results_path} and {args.output / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
