"""ResponseScopedRoute is a drop-in for APIRoute: the same app answers byte for byte alike.

One app is built twice, once with `APIRoute` and once with `ResponseScopedRoute` (set on
`APIRouter(route_class=...)` and on `app.router.route_class`), and every request below must
produce the same status, headers and body on both, and the same OpenAPI document. Order
does not matter here, only the bytes.
"""

from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the FastAPI adapter needs FastAPI")

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    Response,
    WebSocket,
)
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from mintaka.core import ResponseScopeError, response_stack
from mintaka.core.fastapi import ResponseScopedRoute
from testing.asgi import call, call_websocket

pytestmark = pytest.mark.anyio

JSON = [(b"content-type", b"application/json")]


class NoteIn(BaseModel):
    text: str
    tags: list[str] = []


class NoteOut(BaseModel):
    id: int
    text: str


class TeapotError(Exception):
    pass


def current_user() -> str:
    return "alice"


def build_app(route_class: type[APIRoute], scoped: list[bool]) -> FastAPI:
    """The same app for either route class; `scoped` logs whether each request had a scope."""

    async def probe(connection: HTTPConnection) -> None:
        if connection.scope["type"] == "http":
            try:
                response_stack(connection)
            except ResponseScopeError:
                scoped.append(False)
            else:
                scoped.append(True)

    app = FastAPI(title="notes", dependencies=[Depends(probe)])
    app.router.route_class = route_class

    @app.exception_handler(TeapotError)
    async def teapot(request: Request, exc: TeapotError) -> JSONResponse:
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    notes = APIRouter(route_class=route_class, prefix="/notes", tags=["notes"])

    @notes.post("", status_code=201, response_model=NoteOut)
    async def create_note(note: NoteIn, user: str = Depends(current_user)) -> dict[str, Any]:
        return {"id": 1, "text": note.text, "owner": user}

    @notes.get("/teapot")
    async def brew() -> None:
        raise TeapotError

    @notes.get("/whoami")
    def whoami(user: str = Depends(current_user)) -> dict[str, str]:
        return {"user": user}

    @notes.get("/{note_id}", response_model=NoteOut, responses={404: {"description": "gone"}})
    async def read_note(note_id: int) -> dict[str, Any]:
        if note_id != 1:
            raise HTTPException(404, "no such note", headers={"X-Reason": "missing"})
        return {"id": 1, "text": "hello", "secret": "filtered out"}

    @notes.put("/{note_id}")
    async def replace_note(note_id: int, response: Response) -> dict[str, int]:
        response.status_code = 202
        response.headers["X-Replaced"] = str(note_id)
        response.set_cookie("seen", "1")
        return {"id": note_id}

    @notes.delete("/{note_id}", status_code=204)
    async def delete_note(note_id: int) -> None:
        return None

    @notes.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        await websocket.close()

    admin = APIRouter(route_class=route_class)

    @admin.get("/stats")
    async def stats(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    notes.include_router(admin, prefix="/admin")
    app.include_router(notes, prefix="/v1")
    app.dependency_overrides[current_user] = lambda: "bob"
    return app


REQUESTS = [
    pytest.param(200, "GET", "/health", b"", [], id="app_route"),
    pytest.param(201, "POST", "/v1/notes", b'{"text": "a"}', JSON, id="created_201"),
    pytest.param(422, "POST", "/v1/notes", b'{"tags": 1}', JSON, id="body_validation_422"),
    pytest.param(422, "POST", "/v1/notes", b'{"text": ', JSON, id="invalid_json_422"),
    pytest.param(200, "GET", "/v1/notes/1", b"", [], id="response_model_filters"),
    pytest.param(404, "GET", "/v1/notes/2", b"", [], id="http_exception_with_headers"),
    pytest.param(422, "GET", "/v1/notes/abc", b"", [], id="path_validation_422"),
    pytest.param(202, "PUT", "/v1/notes/3", b"", [], id="sub_response_status_headers_cookie"),
    pytest.param(204, "DELETE", "/v1/notes/1", b"", [], id="no_content_204"),
    pytest.param(418, "GET", "/v1/notes/teapot", b"", [], id="custom_exception_handler"),
    pytest.param(200, "GET", "/v1/notes/whoami", b"", [], id="dependency_override_sync"),
    pytest.param(200, "GET", "/v1/notes/admin/stats", b"", [], id="nested_router_prefix"),
    pytest.param(405, "PATCH", "/v1/notes/1", b"", [], id="method_not_allowed_405"),
    pytest.param(404, "GET", "/nowhere", b"", [], id="not_found_404"),
]


@pytest.mark.parametrize(("status", "method", "target", "body", "headers"), REQUESTS)
async def test_scoped_route_answers_exactly_like_apiroute(
    status: int, method: str, target: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    answers = []
    probes: dict[type[APIRoute], list[bool]] = {}
    for route_class in (APIRoute, ResponseScopedRoute):
        scoped: list[bool] = []
        probes[route_class] = scoped
        app = build_app(route_class, scoped)
        exchange = await call(app, target, method=method, body=body, headers=headers)
        answers.append((exchange.status, exchange.headers, exchange.body))

    plain, response_scoped = answers
    assert response_scoped == plain
    assert plain[0] == status
    # The comparison means something only if the route class really was in effect.
    assert probes[APIRoute] == [False] * len(probes[APIRoute])
    assert probes[ResponseScopedRoute] == [True] * len(probes[APIRoute])


async def test_scoped_route_keeps_the_openapi_document() -> None:
    plain = build_app(APIRoute, []).openapi()
    response_scoped = build_app(ResponseScopedRoute, []).openapi()

    assert response_scoped == plain
    assert set(plain["paths"]) == {
        "/health",
        "/v1/notes",
        "/v1/notes/teapot",
        "/v1/notes/whoami",
        "/v1/notes/{note_id}",
        "/v1/notes/admin/stats",
    }


async def test_websocket_on_a_scoped_router_works_as_before() -> None:
    incoming = [{"type": "websocket.receive", "text": "hi"}]
    plain = await call_websocket(build_app(APIRoute, []), "/v1/notes/live", incoming)
    response_scoped = await call_websocket(
        build_app(ResponseScopedRoute, []), "/v1/notes/live", incoming
    )

    assert response_scoped == plain
    assert [m["type"] for m in plain] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert plain[1]["text"] == "HI"
