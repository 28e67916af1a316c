"""Run a command line's `main(argv)` inside the test process, as if it were a child process.

Starting `python -m ...` costs seconds: the child imports FastAPI, pydantic and SQLAlchemy
again, under coverage. `run_main` calls the command's `main` instead and gives back what a
child process would have given: the exit status and everything written to stdout and
stderr. A `SystemExit` (argparse's `--help`, `--version` and usage errors) becomes the exit
status, as it does when Python exits.

What the command changes in the process is put back afterwards: the working directory,
`COLUMNS`, `sys.path`, and every module it imported from a folder it put on `sys.path`
(`mintaka-routes` puts the app's folder there). Tests write different apps under one
module name into different folders, so the app one test imported must not be the app the
next test finds. Modules imported from elsewhere (a driver, a part of FastAPI imported on
first use) stay imported, as they would after any test that imports them.

Imported as `testing.cli` by every test tree of the monorepo, like `testing.asgi`; it is
not shipped in any distribution and needs nothing but pytest.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import ModuleType


@dataclass(frozen=True)
class Completed:
    """How a command ended: what `subprocess.run(..., capture_output=True, text=True)` tells."""

    returncode: int
    """The exit status: `main`'s return value, or the code of the `SystemExit` it raised."""
    stdout: str
    """Everything the command wrote to `sys.stdout`."""
    stderr: str
    """Everything the command wrote to `sys.stderr`."""


def run_main(
    main: Callable[[list[str]], int], *args: str, cwd: Path, columns: int = 200
) -> Completed:
    """Call `main(list(args))` in `cwd` with stdout and stderr captured.

    Args:
        main: The command's entry point; it returns the exit status or raises `SystemExit`.
        args: The command-line arguments, without the program name.
        cwd: The working directory the command runs in.
        columns: The terminal width the command sees through `COLUMNS` (argparse wraps its
            help to it), so the output does not depend on the terminal the tests run in.

    Returns:
        The exit status and the captured output. An exception other than `SystemExit`
        propagates: in a child process it would have been a traceback.
    """
    stdout, stderr = StringIO(), StringIO()
    paths = list(sys.path)
    modules = set(sys.modules)
    dont_write_bytecode = sys.dont_write_bytecode
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(columns))
        patch.chdir(cwd)
        # The test may have just written the module; a cached listing of its folder or a
        # bytecode file from a module of the same name and size must not hide it.
        importlib.invalidate_caches()
        sys.dont_write_bytecode = True
        try:
            with redirect_stdout(stdout), redirect_stderr(stderr):
                returncode = _exit_status(main, list(args), stderr)
        finally:
            sys.dont_write_bytecode = dont_write_bytecode
            added = [Path(path).resolve() for path in sys.path if path not in paths]
            for name in set(sys.modules) - modules:
                if _loaded_from(sys.modules[name], added):
                    del sys.modules[name]
            for path in set(sys.path) - set(paths):
                sys.path_importer_cache.pop(path, None)
            sys.path[:] = paths
    return Completed(returncode, stdout.getvalue(), stderr.getvalue())


def _exit_status(main: Callable[[list[str]], int], argv: list[str], stderr: StringIO) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:
        # What the interpreter does with the code when the exception ends the process.
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=stderr)
        return 1


def _loaded_from(module: ModuleType, folders: Iterable[Path]) -> bool:
    """Whether `module`'s file, or a folder of its package, lies in one of `folders`."""
    file = getattr(module, "__file__", None)
    places = [file] if isinstance(file, str) else []
    places += [path for path in getattr(module, "__path__", ()) if isinstance(path, str)]
    return any(
        Path(place).resolve().is_relative_to(folder)
        for place in places
        if os.path.isabs(place)
        for folder in folders
    )
