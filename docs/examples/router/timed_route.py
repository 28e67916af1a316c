import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from mintaka.router import Router, RouterRoute


class TimedRoute(RouterRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def timed(request: Request) -> Response:
            started = time.perf_counter()
            response = await handler(request)
            response.headers["server-timing"] = f"app;dur={time.perf_counter() - started:.3f}"
            return response

        return timed


router = Router(route_class=TimedRoute)


@router.get("/ping")
async def ping() -> dict[str, str]:
    return {"ping": "pong"}


app = FastAPI()
app.include_router(router)
