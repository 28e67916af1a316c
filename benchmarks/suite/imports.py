"""Item 5: what importing mintaka costs, against `import starlette.routing`.

Each import runs in a fresh interpreter under `python -X importtime`; the figure is the
cumulative time of the imported module's line (everything it pulled in). The modules
run in interleaved rounds. The same interpreter reports which FastAPI or pydantic
modules the import loaded: there must be none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.suite._section import Group, Options, section, skip
from benchmarks.suite._timing import compare, interleave, variant

TITLE = "Import cost"

BASELINE = "starlette.routing"
MODULES = ("starlette.routing", "mintaka.core", "mintaka.core.asgi", "mintaka.introspect")
FORBIDDEN = ("fastapi", "pydantic")

_REPORT = (
    "import sys, json; print(json.dumps(sorted(m for m in sys.modules "
    "if m.split('.')[0] in {forbidden!r})))"
)


class ImportFailedError(Exception):
    """The module cannot be imported here."""


def import_once(module: str) -> tuple[float, list[str]]:
    """Seconds of `import module` in a fresh interpreter, and the forbidden modules it loaded."""
    code = f"import {module}; " + _REPORT.format(forbidden=set(FORBIDDEN))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise ImportFailedError(f"import {module} failed: {last[0]}")
    for line in done.stderr.splitlines():
        # "import time:   self [us] | cumulative | imported package"
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[2].strip() == module:
            return int(fields[1]) / 1e6, json.loads(done.stdout)
    raise ImportFailedError(f"python -X importtime did not report {module}")


def run(options: Options) -> dict[str, Any]:
    """Time every import in interleaved rounds; the section for results.json."""
    group = Group("Cumulative import time in a fresh interpreter")
    loaded: dict[str, list[str]] = {}
    missing: list[str] = []
    for module in MODULES:
        try:
            loaded[module] = import_once(module)[1]  # also compiles the bytecode once
        except ImportFailedError as failure:
            missing.append(f"{module}: {failure}")
    measures = {module: (lambda m=module: import_once(m)[0]) for module in loaded}
    samples = interleave(measures, **options.rounds(10))
    group.variants = [
        variant(
            f"import {module}",
            samples[module],
            scale=1e3,
            unit="ms",
            fastapi_or_pydantic_loaded=", ".join(loaded[module]) or "none",
        )
        for module in loaded
    ]
    samples = {f"import {module}": values for module, values in samples.items()}
    group.comparisons = [
        compare(
            f"import {module} / import {BASELINE}",
            samples,
            f"import {module}",
            f"import {BASELINE}",
            goal=None,
        )
        for module in loaded
        if module != BASELINE
    ]
    notes = [
        f"`import {module}` loads no FastAPI or pydantic module: "
        + ("**yes**" if not modules else f"**no** ({', '.join(modules)})")
        for module, modules in loaded.items()
        if module != BASELINE
    ]
    groups = [group]
    groups += [skip(Group(reason.split(":", 1)[0]), reason) for reason in missing]
    return section(
        TITLE,
        f"`python -X importtime -c 'import MODULE'` in a fresh interpreter, "
        f"{options.rounds(10)['rounds']} interleaved rounds after one warm-up; the cumulative time "
        "of the module's own line.",
        groups,
        notes=notes,
        forbidden_loaded=dict(loaded.items()),
    )
