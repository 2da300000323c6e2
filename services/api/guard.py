"""Deadlines on reading a request, below the ASGI app, and the uvicorn settings that go with
them.

uvicorn times out a connection idle between requests (``timeout_keep_alive``) but not one
whose request stops half-way: headers that never end, a body that never arrives, a chunked
body a byte every few seconds. Each such connection holds a socket and, once its headers are
in, a task, for as long as the client likes. Discord sends a whole interaction at once, so:

- from a request's first byte, its headers and body must be in within ``REQUEST_READ``
  seconds, else the client gets 408 and the connection is closed;
- a connection that sends nothing at all is closed after ``IDLE`` seconds, as an idle
  kept-alive one is.

Behind the load balancer (whose idle timeout is 60 s by default, set in the stack), ``IDLE``
is longer than the balancer's, so the balancer always closes an idle connection first and
never sends a request on one the API is closing (AWS, "Application Load Balancers: connection
idle timeout").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Seconds from a request's first byte to its last: Discord's arrive in milliseconds.
REQUEST_READ: Final = 5.0
# Seconds a connection may stay idle: longer than the load balancer's idle timeout.
IDLE: Final = 75
LOAD_BALANCER_IDLE: Final = 60
# Requests (and connections) in progress at once before uvicorn answers 503: far above what
# one API task serves (a few thousand requests a second, each a few milliseconds).
CONCURRENCY: Final = 1000
_TIMEOUT_RESPONSE: Final = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: 29\r\nconnection: close\r\n\r\n"
    b'{"error":"request too slow"}\n'
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, with the deadlines above."""

    _guard: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(IDLE, self._idle)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(REQUEST_READ, self._too_slow)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        self._disarm()
        self._guard = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _idle(self) -> None:
        """Nothing was ever sent: closed, as an idle kept-alive connection is."""
        self._guard = None
        if not self.transport.is_closing():
            self.transport.close()

    def _too_slow(self) -> None:
        """A request begun and not finished in time: 408, unless a response has begun."""
        self._guard = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def server_options() -> dict[str, Any]:
    """What the API's uvicorn runs with, here and in the tests."""
    return {
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": IDLE,
        "limit_concurrency": CONCURRENCY,
    }
