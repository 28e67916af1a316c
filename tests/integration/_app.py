"""What every app the integration suite serves with uvicorn ends with.

Each service module builds its router from the environment, then hands it here: one
FastAPI app whose lifespan disposes of the service's engines when uvicorn shuts down,
and, unless the service checks more, a `GET /health` that answers 204 once the app
serves (what `_server.serve` waits for).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Response
from sqlalchemy.ext.asyncio import AsyncEngine


def serving(router: APIRouter, *engines: AsyncEngine, health: bool = True) -> FastAPI:
    """An app serving `router`, disposing of `engines` at shutdown; `GET /health` if `health`."""
    if health:

        @router.get("/health")
        async def health_check() -> Response:
            return Response(status_code=204)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for engine in engines:
            await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
