"""Status codes that allow no response body, and responses stripped down to fit them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from starlette.responses import Response

__all__ = ["body_allowed", "without_body"]

_RESET_CONTENT: Final = HTTPStatus.RESET_CONTENT.value
_BODILESS: Final = frozenset(
    {HTTPStatus.NO_CONTENT, HTTPStatus.RESET_CONTENT, HTTPStatus.NOT_MODIFIED}
)
_BODY_HEADERS: Final = frozenset({b"content-type", b"content-length"})


def body_allowed(status_code: int) -> bool:
    """Whether a response with this status may carry content (RFC 9110 §15).

    Informational (1xx), 204 No Content, 205 Reset Content and 304 Not Modified may not.
    """
    return status_code >= HTTPStatus.OK and status_code not in _BODILESS


def without_body(response: Response) -> Response:
    """Return a bodiless copy of `response` that claims no content.

    The copy keeps the status, every header except `Content-Type` and `Content-Length`
    (so `ETag`, `Location`, `Set-Cookie` ... survive), and the background task. It is a
    plain `Response`, so a streaming or file response sends nothing either. A 205 gets
    `Content-Length: 0`, which RFC 9110 §15.3.6 asks for so the connection can be kept
    alive; the other statuses get no `Content-Length` at all.
    """
    headers = [
        (key, value) for key, value in response.raw_headers if key.lower() not in _BODY_HEADERS
    ]
    if response.status_code == _RESET_CONTENT:
        headers.append((b"content-length", b"0"))
    bare = Response(status_code=response.status_code, background=response.background)
    bare.raw_headers = headers
    return bare
