# ruff: noqa: S603 - runs the fixed commands of this script: uv or pip, and the probe
"""Measure fastapi-sqla, advanced-alchemy's FastAPI extension and Litestar's autocommit.

Creates a throwaway virtual environment, installs the pinned releases below from the
package index (they are not mintaka's dependencies), and runs ``probe_others.py`` in it:
the same endpoint in each library adds a row whose commit fails, and the order of the
commit and the response start, and the status sent, are recorded at the ASGI ``send``
callable. Run it with ``python docs/examples/why/measure_others.py``; it needs ``uv`` or
``pip`` and the package index, and takes about a minute on the first run.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PINS = [
    "fastapi-sqla==4.0.1",
    "advanced-alchemy==1.11.0",
    "litestar==2.25.0",
    "fastapi==0.141.1",  # the newest FastAPI that fastapi-sqla 4.0.1 accepts (<0.142)
    "sqlalchemy==2.1.9",
    "aiosqlite",
]
PROBE = Path(__file__).with_name("probe_others.py")


def make_environment(folder: Path) -> Path:
    """A virtual environment at ``folder`` with the pinned releases; return its Python."""
    uv = shutil.which("uv")
    python = folder / "bin" / "python"
    if uv is not None:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], check=True)
        install = [uv, "pip", "install", "--quiet", "--python", str(python)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        install = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*install, *PINS], check=True, capture_output=True)
    return python


def measure() -> list[str]:
    """The probe's result lines, one per library."""
    with tempfile.TemporaryDirectory() as folder:
        python = make_environment(Path(folder) / "venv")
        result = subprocess.run(
            [str(python), str(PROBE)], capture_output=True, text=True, check=True, cwd=folder
        )
    prefix = "probe: "
    lines = result.stdout.splitlines()
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def main() -> None:
    for line in measure():
        print(line)


if __name__ == "__main__":
    main()
