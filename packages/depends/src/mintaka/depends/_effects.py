"""After-commit effects: `on_commit` callbacks of one request's transactional session.

A callback waits on the transaction in progress when it was registered (or the one the
session begins next). When that transaction commits, the callback is ready: it runs right
away at the end of the response scope (`when="before_response"`) or once the response has
been sent (the default). When the transaction rolls back, or the savepoint the callback was
registered in does, the callback is dropped. The session's event listeners (in
`_session.py`) report commits and rollbacks here.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import anyio.to_thread

from mintaka.core import _tracing, after_response
from mintaka.core._callables import callable_name
from mintaka.depends import _binding

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import SessionTransaction
    from starlette.requests import Request

__all__ = ["CommitWhen", "Effects"]

CommitWhen: TypeAlias = Literal["after_response", "before_response"]
"""When a committed `on_commit` callback runs: after the response (the default), or before."""

_WHEN: Final = ("after_response", "before_response")

_logger = logging.getLogger("mintaka.depends")


class _Callback:
    __slots__ = ("function", "is_async", "savepoint", "when")

    def __init__(
        self,
        function: Callable[[], Any],
        *,
        is_async: bool,
        when: CommitWhen,
        savepoint: SessionTransaction | None,
    ) -> None:
        self.function = function
        self.is_async = is_async
        self.when = when
        self.savepoint = savepoint

    async def run(self) -> None:
        if self.is_async:
            await self.function()
        else:
            await anyio.to_thread.run_sync(self.function)

    def inside(self, savepoint: SessionTransaction) -> bool:
        """Whether this callback was registered in `savepoint` or in one nested in it."""
        transaction = self.savepoint
        while transaction is not None:
            if transaction is savepoint:
                return True
            transaction = transaction.parent
        return False


class Effects:
    """The `on_commit` callbacks of one request's session: waiting, then ready."""

    __slots__ = ("_after_registered", "_describe", "_request", "ready", "waiting")

    def __init__(self, request: Request, describe: Callable[[], str]) -> None:
        self._request = request
        self._describe = describe
        self.waiting: list[_Callback] = []
        self.ready: list[_Callback] = []
        self._after_registered = False

    @staticmethod
    def check_when(when: object) -> CommitWhen:
        if when not in _WHEN:
            raise ValueError(
                f"on_commit(when=...) expects 'after_response' (the default: once the "
                f"response has been sent) or 'before_response'; got {when!r}."
            )
        return when

    def add(
        self,
        callback: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        when: CommitWhen,
        savepoint: SessionTransaction | None,
    ) -> None:
        is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - a callable object's method
        )
        function = functools.partial(callback, *args, **kwargs) if args or kwargs else callback
        self.waiting.append(_Callback(function, is_async=is_async, when=when, savepoint=savepoint))

    def committed(self) -> None:
        """The transaction committed: what waited on it is ready."""
        if not self.waiting:
            return
        self.ready.extend(self.waiting)
        self.waiting.clear()
        if not self._after_registered and any(c.when == "after_response" for c in self.ready):
            self._after_registered = True
            after_response(self._request, self.run_after_response)

    def rolled_back(self, transaction: SessionTransaction) -> None:
        """`transaction` rolled back: drop what waited on it (on a savepoint, in it)."""
        if not transaction.nested:
            self.waiting.clear()
        elif self.waiting:
            self.waiting = [c for c in self.waiting if not c.inside(transaction)]

    def discard(self) -> None:
        """Nothing more can commit (a read-only session): drop what waits."""
        self.waiting.clear()

    async def run_before_response(self) -> None:
        await self._run("before_response")

    async def run_after_response(self) -> None:
        await self._run("after_response")

    async def _run(self, when: CommitWhen) -> None:
        due = [c for c in self.ready if c.when == when]
        if not due:
            return
        self.ready = [c for c in self.ready if c.when != when]
        if _binding.capturing is not None:  # a test captures them (mintaka.depends.testing)
            _binding.capturing(due, when, self._describe())
            return
        tracer = _tracing.tracer() if _tracing.AVAILABLE else None
        for callback in due:
            try:
                if tracer is None:
                    await callback.run()
                else:
                    name = callable_name(callback.function)
                    await _tracing.traced_call(tracer, name, callback.run)
            except Exception:
                _logger.exception(
                    "%s: the on_commit callback %s raised; the write it followed is "
                    "committed and the response is unchanged",
                    self._describe(),
                    callable_name(callback.function),
                )
