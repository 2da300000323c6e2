"""Discord's rate limits, learned from response headers, per bucket.

Discord does not publish its limits; each response says which bucket the route belongs to
(``X-RateLimit-Bucket``), how many requests are left and when the bucket refills (Discord docs,
"Rate Limits"). Routes that share a bucket hash share a limit, but only for the same *major
parameter* (channel, guild, or webhook id and token), so the key is bucket hash + major value.
A 429 says how long to wait (``retry_after``, seconds) and whether the limit was the global one.
Requests that keep hitting 429/401/403 count toward Cloudflare's ban of the IP (10,000 invalid
requests in 10 minutes), so we wait rather than retry blind.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

BUCKET_HEADER: Final = "X-RateLimit-Bucket"
REMAINING_HEADER: Final = "X-RateLimit-Remaining"
RESET_AFTER_HEADER: Final = "X-RateLimit-Reset-After"
SCOPE_HEADER: Final = "X-RateLimit-Scope"
GLOBAL_HEADER: Final = "X-RateLimit-Global"
RETRY_AFTER_HEADER: Final = "Retry-After"
SHARED_SCOPE: Final = "shared"
# Discord docs, "Global Rate Limit": 50 requests per second per bot token. Interaction
# routes (the webhook endpoints with an interaction token) are exempt.
GLOBAL_LIMIT: Final = 50
GLOBAL_WINDOW: Final = 1.0
# Discord docs, "Invalid Request Limit": 10,000 401/403/429 responses in 10 minutes get the
# IP banned for a while. We stop far short of that: past INVALID_LIMIT in the window, requests
# fail at once (without reaching Discord) until the oldest ones leave the window.
INVALID_WINDOW: Final = 600.0
INVALID_LIMIT: Final = 1000
INVALID_STATUSES: Final = frozenset({401, 403, 429})
# Interaction routes are limited per token, so every interaction adds a bucket: those whose
# window has long ended are forgotten, a sweep once this many buckets were added.
SWEEP_EVERY: Final = 1000
FORGET_AFTER: Final = 60.0


@dataclass(slots=True)
class _Bucket:
    remaining: int = 1
    reset_at: float = 0.0


class RateLimiter:
    """Shared by every request of one process; safe for concurrent tasks on one event loop."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        global_limit: int = GLOBAL_LIMIT,
        invalid_limit: int = INVALID_LIMIT,
    ) -> None:
        self._clock = clock
        self._bucket_of_route: dict[str, str] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._global_until = 0.0
        self._global_limit = global_limit
        self._bot_requests: deque[float] = deque()
        self._invalid_limit = invalid_limit
        self._invalid: deque[float] = deque()
        self._added_since_sweep = 0

    def suspended_for(self) -> float:
        """Seconds until requests may go out again after too many invalid ones (0: now)."""
        now = self._clock()
        while self._invalid and now - self._invalid[0] > INVALID_WINDOW:
            self._invalid.popleft()
        if len(self._invalid) < self._invalid_limit:
            return 0.0
        return INVALID_WINDOW - (now - self._invalid[0])

    def record_status(self, status: int, scope: str | None) -> None:
        # A 429 with the shared scope is another bot's doing and does not count (Discord docs).
        if status in INVALID_STATUSES and not (status == 429 and scope == SHARED_SCOPE):
            self._invalid.append(self._clock())

    async def acquire_global(self) -> None:
        """Keep bot-token requests under Discord's global limit (a sliding one-second window)."""
        while True:
            now = self._clock()
            while self._bot_requests and now - self._bot_requests[0] >= GLOBAL_WINDOW:
                self._bot_requests.popleft()
            if len(self._bot_requests) < self._global_limit:
                self._bot_requests.append(now)
                return
            await asyncio.sleep(GLOBAL_WINDOW - (now - self._bot_requests[0]))

    def _bucket_key(self, route_key: str, major: str) -> str | None:
        bucket = self._bucket_of_route.get(route_key)
        return None if bucket is None else f"{bucket}:{major}"

    async def acquire(self, route_key: str, major: str) -> float:
        """Wait until a request on this route may be sent; return the seconds waited."""
        waited = 0.0
        while True:
            now = self._clock()
            delay = max(0.0, self._global_until - now)
            key = self._bucket_key(route_key, major)
            bucket = self._buckets.get(key) if key else None
            if bucket is not None:
                if now >= bucket.reset_at:
                    # The window has passed: Discord refilled it, we learn the new count later.
                    bucket.remaining = max(bucket.remaining, 1)
                elif bucket.remaining <= 0:
                    delay = max(delay, bucket.reset_at - now)
            if delay <= 0:
                if bucket is not None:
                    bucket.remaining -= 1
                return waited
            await asyncio.sleep(delay)
            waited += delay

    def update(self, route_key: str, major: str, headers: Mapping[str, str]) -> None:
        """Learn the bucket and its state from a response's headers."""
        bucket_hash = headers.get(BUCKET_HEADER)
        if not bucket_hash:
            return
        self._bucket_of_route[route_key] = bucket_hash
        key = f"{bucket_hash}:{major}"
        try:
            remaining = int(headers.get(REMAINING_HEADER, "1"))
            reset_after = float(headers.get(RESET_AFTER_HEADER, "0"))
        except ValueError:
            return
        bucket = self._bucket(key)
        bucket.remaining = remaining
        bucket.reset_at = self._clock() + reset_after

    def limited(self, route_key: str, major: str, *, retry_after: float, is_global: bool) -> None:
        """Record a 429 so every task waits, not just the one that was refused."""
        until = self._clock() + retry_after
        if is_global:
            self._global_until = max(self._global_until, until)
            return
        # A 429 before any header told us the bucket: the route stands for its own bucket.
        bucket_hash = self._bucket_of_route.setdefault(route_key, f"route {route_key}")
        bucket = self._bucket(f"{bucket_hash}:{major}")
        bucket.remaining = 0
        bucket.reset_at = max(bucket.reset_at, until)

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
            self._added_since_sweep += 1
            if self._added_since_sweep >= SWEEP_EVERY:
                self._sweep()
        return bucket

    def _sweep(self) -> None:
        """Forget buckets whose window ended long ago: Discord has refilled them anyway."""
        self._added_since_sweep = 0
        stale = self._clock() - FORGET_AFTER
        for key in [k for k, b in self._buckets.items() if b.reset_at < stale]:
            del self._buckets[key]

    def global_wait(self) -> float:
        """Seconds every request still waits for a global 429 (0: none)."""
        return max(0.0, self._global_until - self._clock())

    @property
    def buckets(self) -> int:
        """How many buckets are remembered (to watch memory)."""
        return len(self._buckets)
