"""Settings shared by every test tree of the monorepo."""

import os

import pytest
from hypothesis import settings

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
