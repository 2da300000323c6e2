"""Deadlines on reading a request, below the ASGI app, and the uvicorn settings that go with
them.

uvicorn times out a connection idle between requests (``timeout_keep_alive``) but not one
whose request stops half-way: headers that never end, a body that never arrives, a chunked
body a byte every few seconds. Each such connection holds a socket and, once its headers are
in, a task, for as long as the client likes. Discord sends a whole interaction at once, so:

- from a request's first byte, its headers and body must be in within ``REQUEST_READ``
  seconds, else the client gets 408 and the connection is closed (checked every ``SWEEP``
  seconds);
- a connection that sends nothing at all is closed after ``IDLE`` seconds, as an idle
  kept-alive one is.

Behind the load balancer (whose idle timeout is 60 s by default, set in the stack), ``IDLE``
is longer than the balancer's, so the balancer always closes an idle connection first and
never sends a request on one the API is closing (AWS, "Application Load Balancers: connection
idle timeout").
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

# Seconds from a request's first byte to its last: Discord's arrive in milliseconds.
REQUEST_READ: Final = 5.0
# Seconds a connection may stay idle: longer than the load balancer's idle timeout.
IDLE: Final = 75
LOAD_BALANCER_IDLE: Final = 60
# How often the deadlines are checked: a stalled request is closed within
# REQUEST_READ + SWEEP seconds.
SWEEP: Final = 1.0
# Requests (and connections) in progress at once before uvicorn answers 503: far above what
# one API task serves (a few thousand requests a second, each a few milliseconds).
CONCURRENCY: Final = 1000
_TIMEOUT_RESPONSE: Final = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: 29\r\nconnection: close\r\n\r\n"
    b'{"error":"request too slow"}\n'
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, with the deadlines above.

    A request only notes when it must be in; one sweep per server checks every connection
    each SWEEP seconds. A timer per request cost a few percent of the API's throughput."""

    # The loop time by which the request being read (or the first) must be in, and what
    # happens then; None while no request is being read.
    _deadline: float | None = None
    _on_deadline: Callable[[], None]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline, self._on_deadline = self.loop.time() + IDLE, self._idle
        _sweeper(self.server_state, self.loop).start()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._deadline, self._on_deadline = self.loop.time() + REQUEST_READ, self._too_slow

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        super().connection_lost(exc)

    def check_deadline(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            self._deadline = None
            self._on_deadline()

    def _idle(self) -> None:
        """Nothing was ever sent: closed, as an idle kept-alive connection is."""
        if not self.transport.is_closing():
            self.transport.close()

    def _too_slow(self) -> None:
        """A request begun and not finished in time: 408, unless a response has begun."""
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


class _Sweeper:
    """Checks the deadlines of one server's connections every SWEEP seconds, while it has
    any (so a stopped server leaves no timer behind)."""

    def __init__(self, state: ServerState, loop: asyncio.AbstractEventLoop) -> None:
        self._connections = state.connections
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(SWEEP, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now = self._loop.time()
        for connection in list(self._connections):
            if isinstance(connection, GuardedHttpToolsProtocol):
                connection.check_deadline(now)
        if self._connections:
            self.start()


_sweepers: weakref.WeakKeyDictionary[ServerState, _Sweeper] = weakref.WeakKeyDictionary()


def _sweeper(state: ServerState, loop: asyncio.AbstractEventLoop) -> _Sweeper:
    sweeper = _sweepers.get(state)
    if sweeper is None:
        sweeper = _sweepers[state] = _Sweeper(state, loop)
    return sweeper


def server_options() -> dict[str, Any]:
    """What the API's uvicorn runs with, here and in the tests."""
    return {
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": IDLE,
        "limit_concurrency": CONCURRENCY,
    }
