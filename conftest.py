"""Settings shared by every test tree of the monorepo."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio, the loop uvicorn and FastAPI use."""
    return "asyncio"
