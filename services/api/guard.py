"""Deadlines on reading a request, below the ASGI app, and the uvicorn settings that go with
them.

uvicorn times out a connection idle between requests (``timeout_keep_alive``) but not one
whose request stops half-way: headers that never end, a body that never arrives, a chunked
body a byte every few seconds; and any byte (a bare CRLF) resets its idle timer. Each such
connection holds a socket and counts against ``limit_concurrency`` for as long as the client
likes. Discord sends a whole interaction at once, so:

- a request's headers and body must be in within ``request_read`` seconds of its first byte
  (of the connection, for its first request), else the client gets 408 and the connection
  is closed;
- a connection with no request in progress is closed after ``idle`` seconds, whatever
  stray bytes it sends;
- past ``crowded`` open connections, those that have waited over ``shed_after`` seconds
  for a request are closed, to make room for ones that send requests.

Deadlines are checked every ``SWEEP`` seconds by one sweep per server: a request only notes
its deadline (a timer per request cost a few percent of the API's throughput).

Behind the load balancer (whose idle timeout is 60 s by default, set in the stack), ``idle``
is longer than the balancer's, so the balancer always closes an idle connection first and
never sends a request on one the API is closing (AWS, "Application Load Balancers: connection
idle timeout").
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

# How often the deadlines are checked: a stalled request is closed within
# request_read + SWEEP seconds.
SWEEP: Final = 1.0
LOAD_BALANCER_IDLE: Final = 60
# Seconds a closed connection may take to send what it still holds before it is cut.
CLOSE_GRACE: Final = 2.0
_TIMEOUT_RESPONSE: Final = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: 29\r\nconnection: close\r\n\r\n"
    b'{"error":"request too slow"}\n'
)


@dataclass(frozen=True, slots=True)
class GuardLimits:
    # Seconds from a request's first byte to its last: Discord's arrive in milliseconds.
    request_read: float = 5.0
    # Seconds a connection may wait for its next request: longer than the load balancer's.
    idle: float = 75.0
    # Requests (and connections) open at once before uvicorn answers 503: far above what one
    # API task serves (a few thousand requests a second, each a few milliseconds).
    concurrency: int = 1000
    # Open connections past which waiting ones are closed to make room, and after how long.
    crowded: int = 750
    shed_after: float = 1.0


LIMITS: Final = GuardLimits()
REQUEST_READ: Final = LIMITS.request_read
IDLE: Final = LIMITS.idle
CONCURRENCY: Final = LIMITS.concurrency


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, with the deadlines above."""

    limits: ClassVar[GuardLimits] = LIMITS
    # The loop time by which the request being read (or the next) must be in, and what
    # happens then.
    _deadline: float | None = None
    _on_deadline: Callable[[], None]
    # Since when no request has been in progress (None: one is).
    _waiting_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        now = self.loop.time()
        self._deadline, self._on_deadline = now + self.limits.request_read, self._too_slow
        self._waiting_since = now
        sweeper = _sweeper(self.server_state, self.loop, self.limits)
        sweeper.start()
        if len(self.connections) > self.limits.crowded:
            sweeper.shed(now)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._deadline = self.loop.time() + self.limits.request_read
        self._on_deadline, self._waiting_since = self._too_slow, None

    def on_message_complete(self) -> None:
        super().on_message_complete()
        now = self.loop.time()
        self._deadline, self._on_deadline = now + self.limits.idle, self._idle
        self._waiting_since = now

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        super().connection_lost(exc)

    def check_deadline(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            self._deadline = None
            self._on_deadline()

    def shed_if_waiting(self, now: float) -> None:
        """Close this connection if it has waited long for a request and no response is on
        its way (a request just read is still being answered)."""
        waiting = self._waiting_since
        if waiting is not None and now - waiting >= self.limits.shed_after and self._answered:
            self._deadline = None
            self._idle()

    @property
    def _answered(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _idle(self) -> None:
        if not self.transport.is_closing():
            self._close()

    def _too_slow(self) -> None:
        """A request not in in time: 408, unless another response is still being written
        (pipelined requests), then closed."""
        if self.transport.is_closing():
            return
        if self._answered or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self._close()

    def _close(self) -> None:
        """Close once what is written is sent; a client that reads nothing never lets that
        happen, so after CLOSE_GRACE the connection is cut, unsent bytes and all."""
        self.transport.close()
        self._deadline = self.loop.time() + CLOSE_GRACE
        self._on_deadline = self.transport.abort


class _Sweeper:
    """Checks the deadlines of one server's connections every SWEEP seconds, while it has
    any (so a stopped server leaves no timer behind)."""

    def __init__(
        self, state: ServerState, loop: asyncio.AbstractEventLoop, limits: GuardLimits
    ) -> None:
        self._connections = state.connections
        self._loop = loop
        self._limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._shed_at = -1.0

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(SWEEP, self._sweep)

    def shed(self, now: float) -> None:
        """Close connections that wait for a request, to make room; at most a few times a
        second, as each pass looks at every connection."""
        if now - self._shed_at < self._limits.shed_after / 4:
            return
        self._shed_at = now
        for connection in list(self._connections):
            if isinstance(connection, GuardedHttpToolsProtocol):
                connection.shed_if_waiting(now)

    def _sweep(self) -> None:
        self._timer = None
        now = self._loop.time()
        try:
            for connection in list(self._connections):
                if isinstance(connection, GuardedHttpToolsProtocol):
                    connection.check_deadline(now)
            if len(self._connections) > self._limits.crowded:
                self.shed(now)
        finally:
            if self._connections:
                self.start()


_sweepers: weakref.WeakKeyDictionary[ServerState, _Sweeper] = weakref.WeakKeyDictionary()


def _sweeper(state: ServerState, loop: asyncio.AbstractEventLoop, limits: GuardLimits) -> _Sweeper:
    sweeper = _sweepers.get(state)
    if sweeper is None:
        sweeper = _sweepers[state] = _Sweeper(state, loop, limits)
    return sweeper


def server_options(limits: GuardLimits = LIMITS) -> dict[str, Any]:
    """What the API's uvicorn runs with, here and in the tests (which shorten the limits)."""
    protocol = GuardedHttpToolsProtocol
    if limits != LIMITS:

        class Limited(GuardedHttpToolsProtocol):
            pass

        Limited.limits = limits
        protocol = Limited
    return {
        "http": protocol,
        "timeout_keep_alive": limits.idle,
        "limit_concurrency": limits.concurrency,
    }
