"""A client's WAL position: how it travels (a cookie, a header) and how it is read back.

A PostgreSQL WAL position (an LSN) is written as two hexadecimal numbers, `16/B374D848`:
the high and the low 32 bits. It is all a token holds — no secret, no signature: a client
that forges one can at most send its own reads to the primary (see `ReadReplicas`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from mintaka.core import response_headers

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["format_position", "parse_position", "request_position", "send_position"]

_POSITION: Final = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
_OWN_POSITION_KEY: Final = "mintaka.depends.wal_position"
"""Where the ASGI scope keeps the position of the request's own last commit."""


def format_position(position: int) -> str:
    """`position` as PostgreSQL writes an LSN: `16/B374D848`."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def parse_position(text: str | None) -> int | None:
    """The position `text` names, or None when it is missing or malformed."""
    if text is None:
        return None
    match = _POSITION.fullmatch(text.strip())
    if match is None:
        return None
    return int(match.group(1), 16) << 32 | int(match.group(2), 16)


def request_position(request: Request, header: str | None, cookie: str | None) -> int | None:
    """The position the request's reads must see: its token (header first, then cookie).

    And at least the position of a commit this request made itself.
    """
    position = None
    if header is not None:
        position = parse_position(request.headers.get(header))
    if position is None and cookie is not None:
        position = parse_position(request.cookies.get(cookie))
    own: int | None = request.scope.get(_OWN_POSITION_KEY)
    if own is not None and (position is None or own > position):
        return own
    return position


def send_position(request: Request, position: int, header: str | None, cookie: str | None) -> None:
    """Hand `position` to the client with the response, and to the request's later reads."""
    own: int | None = request.scope.get(_OWN_POSITION_KEY)
    if own is not None and own >= position:
        return
    request.scope[_OWN_POSITION_KEY] = position
    value = format_position(position)
    headers = response_headers(request)
    if header is not None:
        headers[header] = value
    if cookie is not None:
        attributes = "Path=/; HttpOnly; SameSite=Lax"
        if request.url.scheme in {"https", "wss"}:
            attributes += "; Secure"
        # One Set-Cookie per request: a later commit of the request replaces the earlier.
        cookies = [
            item for item in headers.getlist("set-cookie") if not item.startswith(f"{cookie}=")
        ]
        del headers["set-cookie"]
        for item in cookies:
            headers.append("set-cookie", item)
        headers.append("set-cookie", f"{cookie}={value}; {attributes}")
