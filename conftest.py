"""Settings shared by every test tree of the monorepo."""

import importlib.util
import os

import pytest
from hypothesis import settings

# The suite tests its examples with mintaka's test kit, loaded the way the kit's users load
# it. The Starlette-only environment has no mintaka-depends, and no test there uses it.
# pytester runs the kit's own tests of the plugin in projects of their own. The suite's own
# PostgreSQL primary and replica (fixtures `replica_cluster`, `cluster`) serve every folder.
pytest_plugins = ["pytester", "tests._replica_cluster"]
if importlib.util.find_spec("mintaka.depends") is not None:
    pytest_plugins.append("mintaka.depends.testing")

# Property tests draw fewer examples on a developer's machine, so a local run stays quick,
# and the full number in CI. HYPOTHESIS_PROFILE picks one by name; otherwise CI=true (set
# by CI services, and by .ci/run) picks "ci".
settings.register_profile("ci", max_examples=100, print_blob=True)
settings.register_profile("dev", max_examples=20)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev")
)


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio, the loop uvicorn and FastAPI use."""
    return "asyncio"
