"""Slow clients cannot hold the API: requests that stop half-way are closed within seconds,
and a real interaction is answered meanwhile."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from devtools import interactions
from services.api.guard import REQUEST_READ
from tests.conftest import APPLICATION_ID

HEADERS = b"POST /interactions HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def _closed_after(reader: asyncio.StreamReader, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it said before."""
    started = time.monotonic()
    said = b""
    async with asyncio.timeout(limit):
        while chunk := await reader.read(1024):
            said += chunk
    return time.monotonic() - started, said


async def test_stalled_requests_are_closed_and_a_ping_is_answered_meanwhile(api):
    stalled = []
    trickles = []
    for n in range(300):
        reader, writer = await _open(api.url)
        if n % 3 == 0:  # headers that never end
            writer.write(HEADERS)
        elif n % 3 == 1:  # a body that never arrives
            writer.write(HEADERS + b"Content-Length: 500\r\n\r\n{")
        else:  # a chunked body, a byte every two seconds

            async def trickle(w: asyncio.StreamWriter = writer) -> None:
                w.write(HEADERS + b"Transfer-Encoding: chunked\r\n\r\n")
                while not w.is_closing():
                    w.write(b"1\r\n{\r\n")
                    await asyncio.sleep(2)

            trickles.append(asyncio.create_task(trickle()))
        await writer.drain()
        stalled.append((reader, writer))

    # A real interaction meanwhile: answered as if nothing were wrong.
    started = time.monotonic()
    status, body, _ = await api.post(interactions.ping(APPLICATION_ID))
    assert (status, body) == (200, {"type": 1})
    assert time.monotonic() - started < 1.0

    # Every stalled one is closed within the read deadline (plus a margin), with a 408.
    closings = await asyncio.gather(*(_closed_after(r, REQUEST_READ + 5) for r, _ in stalled))
    assert max(seconds for seconds, _ in closings) < REQUEST_READ + 5
    assert all(said.startswith(b"HTTP/1.1 408") for _, said in closings)
    for task in trickles:
        task.cancel()
    for _, writer in stalled:
        writer.close()
