"""What the Anthropic and Bedrock stand-ins share: a scripted answer streamed a few words at
a time, HTTP failures queued for the next requests, one failure in the middle of a stream,
and a record of every request and how its answer ended."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Self

from aiohttp import web

from devtools import loopback

WORDS_PER_DELTA: Final = 2
# Images come inline, base64 (3.75 MB each for Bedrock, 5 MB for Anthropic).
MAX_BODY: Final = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Script:
    text: str
    stop_reason: str = "end_turn"
    delay: float = 0.0  # seconds before each text delta


@dataclass(slots=True)
class Failure:
    status: int
    name: str  # the service's name for the error (``rate_limit_error``, ``ThrottlingException``)
    message: str
    retry_after: float | None
    times: int


@dataclass(frozen=True, slots=True)
class StreamFailure:
    name: str  # as the stream names it (``overloaded_error``, ``throttlingException``)
    message: str
    after: int  # text deltas sent before it


@dataclass(slots=True)
class Recorded:
    """One request as it arrived, and what became of it: ``refused`` (an HTTP error),
    ``complete``, ``error_event`` or ``exception`` (the service's failure ended the stream),
    or ``disconnected`` (the client left before the end)."""

    headers: Mapping[str, str]
    body: Any
    model_id: str = ""  # from the path, where the service names the model there
    status: int = 200
    outcome: str = "open"
    deltas_sent: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, timeout: float = 5.0) -> str:
        """How the answer ended, once it has."""
        async with asyncio.timeout(timeout):
            await self.ended.wait()
        return self.outcome

    def end(self, outcome: str) -> None:
        self.outcome = outcome
        self.ended.set()


def deltas(text: str) -> list[str]:
    """``text`` in pieces of ``WORDS_PER_DELTA`` words that join back to it exactly."""
    words = re.findall(r"\s*\S+", text)
    pieces = [
        "".join(words[i : i + WORDS_PER_DELTA]) for i in range(0, len(words), WORDS_PER_DELTA)
    ]
    rest = text[len("".join(pieces)) :]
    if rest and pieces:
        pieces[-1] += rest
    return pieces


class ScriptedModel:
    """Start with ``async with Fake.running() as fake``; ``fake.url`` is its root."""

    STOP_REASONS: ClassVar[frozenset[str]] = frozenset()
    DEFAULT_ANSWER: ClassVar[str] = "Hello from the stand-in."

    def __init__(self, *, context_window: int = 200_000) -> None:
        self.context_window = context_window
        self.requests: list[Recorded] = []
        self.url = ""
        self._script = Script(self.DEFAULT_ANSWER)
        self._failures: list[Failure] = []
        self._stream_failure: StreamFailure | None = None
        self._ids = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def running(
        cls, *, host: str = "127.0.0.1", port: int = 0, context_window: int = 200_000
    ) -> AsyncIterator[Self]:
        fake = cls(context_window=context_window)
        runner, fake.url = await loopback.serve(fake.app(), host, port)
        try:
            yield fake
        finally:
            await runner.cleanup()

    def app(self) -> web.Application:
        raise NotImplementedError

    def script(self, text: str, stop_reason: str = "end_turn", delay: float = 0.0) -> None:
        """The answer to every request from now on."""
        if stop_reason not in self.STOP_REASONS:
            raise ValueError(f"stop_reason must be one of {sorted(self.STOP_REASONS)}")
        self._script = Script(text, stop_reason, delay)

    def _take_failure(self) -> Failure | None:
        if not self._failures:
            return None
        failure = self._failures[0]
        failure.times -= 1
        if failure.times <= 0:
            self._failures.pop(0)
        return failure
