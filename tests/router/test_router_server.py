"""Bodiless statuses through a real uvicorn server over TCP, on one keep-alive connection.

Plain FastAPI sends a 205 with the `Content-Length` of the body it dropped, and uvicorn
(h11) then aborts the connection ("Too little data for declared Content-Length"); a 304
keeps `Content-Type: application/json`; a returned `JSONResponse(None, status_code=304)`
keeps its `null` body, which h11 refuses to send ("Too much data for declared
Content-Length"). A `Router` route must instead produce a response that the server sends
completely and after which the same connection serves the next request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import h11
import pytest
import uvicorn
from fastapi import FastAPI, Header, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mintaka.router import Router

pytestmark = pytest.mark.server

NOTE_ETAG = '"note-1-v3"'


class Note(BaseModel):
    id: int
    text: str


def build_app() -> FastAPI:
    router = Router(prefix="/notes")

    @router.get("/{note_id}")
    async def read_note(
        note_id: int, response: Response, if_none_match: str | None = Header(default=None)
    ) -> Note:
        response.headers["ETag"] = NOTE_ETAG
        if if_none_match == NOTE_ETAG:
            response.status_code = status.HTTP_304_NOT_MODIFIED
        return Note(id=note_id, text="buy milk")

    @router.get("/{note_id}/export")
    async def export_note(
        note_id: int, if_none_match: str | None = Header(default=None)
    ) -> JSONResponse:
        headers = {"ETag": NOTE_ETAG}
        if if_none_match == NOTE_ETAG:
            return JSONResponse(None, status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return JSONResponse({"id": note_id, "text": "buy milk"}, headers=headers)

    @router.post("/form/reset", status_code=status.HTTP_205_RESET_CONTENT)
    async def reset_form() -> None:
        return None

    app = FastAPI()
    app.include_router(router, prefix="/api")
    return app


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    config = uvicorn.Config(
        build_app(),
        host="127.0.0.1",
        port=0,
        http="h11",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        date_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start on 127.0.0.1")
        time.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


class Connection:
    """One client TCP connection, framed by h11 so that a short body is an error."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.h11 = h11.Connection(h11.CLIENT)

    def request(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send one request and read the whole response: status, raw headers, body."""
        request = h11.Request(
            method=method, target=target, headers=[("host", "127.0.0.1"), *(headers or [])]
        )
        self.socket.sendall(self.h11.send(request) + self.h11.send(h11.EndOfMessage()))
        response: h11.Response | None = None
        body = b""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(self.socket.recv(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                pytest.fail(f"unexpected event from the server: {event!r}")
        assert response is not None
        self.h11.start_next_cycle()  # fails unless both sides may keep the connection
        return response.status_code, [(bytes(k), bytes(v)) for k, v in response.headers], body

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def connection(port: int) -> Iterator[Connection]:
    client = Connection(port)
    yield client
    client.close()


def test_reset_content_is_sent_completely_and_the_connection_stays_usable(
    connection: Connection,
) -> None:
    reset = connection.request("POST", "/api/notes/form/reset")
    after = connection.request("GET", "/api/notes/1")

    assert reset == (205, [(b"content-length", b"0")], b"")
    assert after[0] == 200
    assert after[2] == b'{"id":1,"text":"buy milk"}'


def test_not_modified_claims_no_body_and_the_connection_stays_usable(
    connection: Connection,
) -> None:
    fresh = connection.request("GET", "/api/notes/1")
    revalidated = connection.request("GET", "/api/notes/1", [("if-none-match", NOTE_ETAG)])
    again = connection.request("POST", "/api/notes/form/reset")

    assert fresh == (
        200,
        [
            (b"content-length", b"26"),
            (b"content-type", b"application/json"),
            (b"etag", NOTE_ETAG.encode()),
        ],
        b'{"id":1,"text":"buy milk"}',
    )
    assert revalidated == (304, [(b"etag", NOTE_ETAG.encode())], b"")
    assert again[0] == 205


def test_a_returned_json_not_modified_response_goes_out_without_its_body(
    connection: Connection,
) -> None:
    revalidated = connection.request("GET", "/api/notes/1/export", [("if-none-match", NOTE_ETAG)])
    again = connection.request("GET", "/api/notes/1/export")

    assert revalidated == (304, [(b"etag", NOTE_ETAG.encode())], b"")
    assert again[0] == 200
