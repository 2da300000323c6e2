"""Slow clients cannot hold the API: requests that stop half-way are closed within seconds,
and a real interaction is answered meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urlsplit

from devtools import interactions
from services.api.guard import CLOSE_GRACE, REQUEST_READ, SWEEP, GuardLimits
from tests.conftest import APPLICATION_ID, api_settings, base_env, serve_api

HEADERS = b"POST /interactions HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n"
# Time for the sweep to notice, and for a loaded machine.
MARGIN = SWEEP + 2


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def _closed_after(reader: asyncio.StreamReader, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it said before."""
    started = time.monotonic()
    said = b""
    async with asyncio.timeout(limit):
        try:
            while chunk := await reader.read(1024):
                said += chunk
        except ConnectionResetError:
            # Closed with bytes of ours still unread (a trickle): the kernel resets the
            # connection, and the 408 before it may be lost on the way.
            said += b"(reset)"
    return time.monotonic() - started, said


async def test_stalled_requests_are_closed_and_a_ping_is_answered_meanwhile(api):
    stalled: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    trickles = []
    try:
        for n in range(300):
            reader, writer = await _open(api.url)
            stalled.append((reader, writer))
            if n % 3 == 0:  # headers that never end
                writer.write(HEADERS)
            elif n % 3 == 1:  # a body that never arrives
                writer.write(HEADERS + b"Content-Length: 500\r\n\r\n{")
            else:  # a chunked body, a byte every two seconds
                trickles.append(asyncio.create_task(_trickle(writer)))
            await writer.drain()

        # A real interaction meanwhile: answered as if nothing were wrong.
        started = time.monotonic()
        status, body, _ = await api.post(interactions.ping(APPLICATION_ID))
        assert (status, body) == (200, {"type": 1})
        assert time.monotonic() - started < 1.0

        # Every stalled one is closed within the read deadline (plus a margin), with a 408
        # (a trickle's may be lost to the reset its unread bytes cause).
        closings = await asyncio.gather(*(_closed_after(r, REQUEST_READ + 5) for r, _ in stalled))
        assert max(seconds for seconds, _ in closings) < REQUEST_READ + 5
        for n, (_, said) in enumerate(closings):
            assert said.startswith(b"HTTP/1.1 408") or (n % 3 == 2 and said.endswith(b"(reset)"))
    finally:
        for task in trickles:
            task.cancel()
        for _, writer in stalled:
            writer.close()


async def _trickle(writer: asyncio.StreamWriter) -> None:
    writer.write(HEADERS + b"Transfer-Encoding: chunked\r\n\r\n")
    with contextlib.suppress(ConnectionError):
        while not writer.is_closing():
            writer.write(b"1\r\n{\r\n")
            await asyncio.sleep(2)


async def _answered(reader: asyncio.StreamReader) -> bytes:
    """One whole response to GET /healthz."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    return head + await reader.readexactly(length)


async def test_a_connection_that_never_sends_is_closed_with_408(api):
    reader, writer = await _open(api.url)
    seconds, said = await _closed_after(reader, REQUEST_READ + MARGIN)
    assert said.startswith(b"HTTP/1.1 408")
    assert seconds >= REQUEST_READ - 0.5
    writer.close()


async def test_a_stalled_second_request_on_a_kept_alive_connection_gets_408(api):
    reader, writer = await _open(api.url)
    writer.write(HEALTH)
    assert (await _answered(reader)).startswith(b"HTTP/1.1 200")
    writer.write(HEADERS)  # the next request's headers, never finished
    _, said = await _closed_after(reader, REQUEST_READ + MARGIN)
    assert said.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_stray_bytes_do_not_keep_an_idle_connection_open(moto, queues, discord, signing_key):
    # A bare CRLF between requests starts no request; uvicorn's own idle timer restarts on it.
    limits = GuardLimits(idle=3)
    settings = api_settings(base_env(moto, queues, discord.url), signing_key)
    async with serve_api(settings, signing_key, guard=limits) as api:
        reader, writer = await _open(api.url)
        writer.write(HEALTH)
        assert (await _answered(reader)).startswith(b"HTTP/1.1 200")

        async def stray() -> None:
            while not writer.is_closing():
                writer.write(b"\r\n")
                await asyncio.sleep(0.5)

        straying = asyncio.create_task(stray())
        seconds, said = await _closed_after(reader, limits.idle + MARGIN)
        straying.cancel()
        assert said == b""  # closed as idle: no request was in progress
        assert seconds >= limits.idle - 0.5
        writer.close()


async def test_a_crowd_of_idle_connections_makes_room_for_a_real_request(
    moto, queues, discord, signing_key
):
    # One connection short of what the server takes, each after one request, all waiting:
    # uvicorn answers 503 to the next request until they time out.
    limits = GuardLimits(concurrency=60, crowded=40, shed_after=2)
    settings = api_settings(base_env(moto, queues, discord.url), signing_key)
    async with serve_api(settings, signing_key, guard=limits) as api:
        crowd = []
        for _ in range(limits.concurrency - 1):
            reader, writer = await _open(api.url)
            writer.write(HEALTH)
            assert (await _answered(reader)).startswith(b"HTTP/1.1 200")
            crowd.append((reader, writer))
        await asyncio.sleep(limits.shed_after + 0.2)

        status, body, _ = await api.post(interactions.ping(APPLICATION_ID))
        assert (status, body) == (200, {"type": 1})
        # The waiting ones were closed to make room (their clients reconnect as needed).
        closed = [reader.at_eof() or await _eof_soon(reader) for reader, _ in crowd]
        assert sum(closed) >= len(crowd) - limits.crowded
        for _, writer in crowd:
            writer.close()


async def _eof_soon(reader: asyncio.StreamReader) -> bool:
    try:
        async with asyncio.timeout(0.5):
            return await reader.read(1) == b""
    except TimeoutError:
        return False


async def test_a_client_that_never_reads_its_answers_is_cut_off(moto, queues, discord, signing_key):
    # Requests pipelined by the megabyte and no answer ever read: the server's buffer fills,
    # and a close that waits for it to drain would wait forever.
    limits = GuardLimits(request_read=2, idle=2)
    settings = api_settings(base_env(moto, queues, discord.url), signing_key)
    async with serve_api(settings, signing_key, guard=limits) as api:
        assert api.server is not None
        connections = api.server.server_state.connections
        _, writer = await _open(api.url)
        writer.write(HEALTH * 50_000)
        async with asyncio.timeout(limits.request_read + limits.idle + CLOSE_GRACE + MARGIN + 2):
            while not connections:
                await asyncio.sleep(0.05)
            while connections:
                await asyncio.sleep(0.1)
        writer.close()
