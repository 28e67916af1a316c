"""Which database errors are conflicts worth handling the request again, and what then.

A serialization failure (SQLSTATE 40001) or a deadlock (40P01) on PostgreSQL, and SQLite's
"database is locked", abort a transaction that would succeed if run again. While nothing
of the response has been sent, the transactional session asks the route adapter to handle
the whole request again (`mintaka.core.HandleAgain`), up to its `retries`; after the last
attempt, the client gets a 503 with `Retry-After`.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from mintaka.core import HandleAgain, request_attempt
from mintaka.core._scope import describe_request

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["TransactionConflict", "check_retries", "conflict_code", "handle_conflict"]

_SQLSTATES: Final = {"40001": "serialization failure", "40P01": "deadlock"}
_SQLITE_LOCKED: Final = "database is locked"

FIRST_DELAY: Final = 0.05
"""The bound of the first retry's delay, in seconds; it doubles with each attempt."""
LONGEST_DELAY: Final = 1.0
"""No retry waits longer than this, in seconds."""


def retry_delay(attempt: int) -> float:
    """How long to wait before handling a request again after its `attempt`-th conflict.

    Between half the bound and the bound, where the bound is `FIRST_DELAY` doubled with
    each attempt, up to `LONGEST_DELAY`. The floor of half the bound matters under heavy
    contention: a request that lost many races waits longer than the newcomers it keeps
    losing to, which keeps the number of requests that need every retry small (measured
    by the conflict proof: with a floor of zero and a 10 ms first bound, one request in
    200 at concurrency 20 could lose eleven times in a row).
    """
    bound = min(LONGEST_DELAY, FIRST_DELAY * 2 ** (attempt - 1))
    return random.uniform(bound / 2, bound)  # noqa: S311 - jitter, not a secret


RETRY_AFTER: Final = "1"

_logger = logging.getLogger("mintaka.depends")


class TransactionConflict(HTTPException):
    """The 503 a request gets when its transaction still conflicted on its last attempt.

    An `HTTPException`, so an exception handler of yours can answer it differently. Its
    body says nothing of the database; the log has the route, the attempts and the
    SQLSTATE.
    """

    def __init__(self, code: str, attempts: int) -> None:
        super().__init__(503, "Service Unavailable", headers={"Retry-After": RETRY_AFTER})
        self.code = code
        self.attempts = attempts


def check_retries(retries: object) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise TypeError(
            "transactional_session(retries=...) expects how many more times a request may "
            "be handled after a serialization failure or deadlock: an int, 0 or more (0 "
            f"answers the first conflict with a 503); got {retries!r}."
        )
    return retries


def conflict_code(error: BaseException | None) -> str | None:
    """The SQLSTATE (or `"sqlite-locked"`) when `error` is a conflict; otherwise `None`."""
    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code in _SQLSTATES:
        return str(code)
    if _SQLITE_LOCKED in str(original):
        return "sqlite-locked"
    return None


def handle_conflict(request: Request, code: str, retries: int) -> HandleAgain | TransactionConflict:
    """What replaces a conflict: the request handled again, or the 503 once attempts are spent."""
    attempt = request_attempt(request)
    what = _SQLSTATES.get(code, "database is locked")
    described = describe_request(request.scope)
    if attempt is not None and attempt <= retries:
        delay = retry_delay(attempt)
        _logger.info(
            "%s: %s (%s) on attempt %d; handling the request again in %.3f s",
            described,
            what,
            code,
            attempt,
            delay,
        )
        return HandleAgain(f"{what} ({code})", delay=delay)
    attempts = attempt or 1
    _logger.warning(
        "%s: %s (%s) on attempt %d of %d; answered 503",
        described,
        what,
        code,
        attempts,
        retries + 1,
    )
    return TransactionConflict(code, attempts)
