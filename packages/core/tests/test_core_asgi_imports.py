"""`mintaka.core` and `mintaka.core.asgi` import no framework and no tracing library.

Run in this environment, where FastAPI, Litestar, Django, Quart and OpenTelemetry are all
installed, so an accidental import would show (the packaging tests check a bare install).
"""

import subprocess
import sys

FRAMEWORKS = {"fastapi", "pydantic", "litestar", "django", "quart", "opentelemetry"}
# Looking for the tracing extra loads the empty `opentelemetry` namespace package, none
# of its code.
ALLOWED = {"opentelemetry"}


def test_importing_the_core_and_the_middleware_loads_no_framework() -> None:
    code = (
        "import sys, mintaka.core, mintaka.core.asgi, mintaka.core.starlette; "
        "print(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {FRAMEWORKS!r} and m not in {ALLOWED!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
