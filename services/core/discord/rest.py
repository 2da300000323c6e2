"""Discord REST client (aiohttp): the calls the worker and tools make, with rate limits
honoured and transient failures retried.

Routes are kept as templates so that logs and errors name ``/webhooks/{application_id}/{token}``
and never the token itself.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import structlog

from services.core.config import Secret
from services.core.discord.errors import (
    DiscordHTTPError,
    RateLimitedError,
    RequestsSuspended,
    ServerError,
)
from services.core.discord.messages import Message
from services.core.discord.ratelimits import (
    GLOBAL_HEADER,
    RETRY_AFTER_HEADER,
    RateLimiter,
)
from services.core.discord.routes import Route
from services.core.discord.snowflake import is_snowflake

log = structlog.get_logger("discord.rest")

USER_AGENT: Final = "DiscordBot (discord-bot-on-aws, 0.1)"
TOO_MANY_REQUESTS: Final = 429
NO_CONTENT: Final = 204
# Statuses worth another try: Discord's and Cloudflare's transient failures.
RETRYABLE_STATUSES: Final = frozenset({500, 502, 503, 504, 520, 521, 522, 524})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    # How many 429s in a row one request may wait out before giving up.
    max_rate_limited: int = 6

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with full jitter (attempt counts from 1)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class DiscordRest:
    """One per process, opened in ``main()`` around an ``aiohttp.ClientSession``."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_url: str,
        application_id: str,
        bot_token: Secret | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._session = session
        self._api_url = api_url.rstrip("/")
        self.application_id = application_id
        self._bot_token = bot_token
        self._limiter = limiter or RateLimiter()
        self._retry = retry or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    # -- interaction responses (authorised by the interaction token, not the bot token) ----

    def _webhook(self, method: str, suffix: str, token: str, **params: str) -> Route:
        return Route(
            method,
            "/webhooks/{application_id}/{token}" + suffix,
            {"application_id": self.application_id, "token": token, **params},
        )

    async def edit_original(self, token: str, message: Message) -> dict[str, Any]:
        route = self._webhook("PATCH", "/messages/@original", token)
        return await self._json(route, body=message.payload())

    async def get_original(self, token: str) -> dict[str, Any]:
        return await self._json(self._webhook("GET", "/messages/@original", token), body=None)

    async def delete_original(self, token: str) -> None:
        await self.request(self._webhook("DELETE", "/messages/@original", token))

    async def create_followup(self, token: str, message: Message) -> dict[str, Any]:
        route = self._webhook("POST", "", token)
        return await self._json(route, body=message.payload(), query={"wait": "true"})

    async def edit_followup(self, token: str, message_id: str, message: Message) -> dict[str, Any]:
        route = self._webhook("PATCH", "/messages/{message_id}", token, message_id=message_id)
        return await self._json(route, body=message.payload())

    # -- webhooks (their own token) ---------------------------------------------------------

    async def execute_webhook(self, webhook_url: Secret, message: Message) -> dict[str, Any]:
        """Post through a channel webhook and wait for the message (``wait=true``).

        Only the webhook's id and token are taken from the URL; the request goes to this
        client's API URL, so a stored URL cannot send us anywhere else. A webhook that was
        deleted answers 404 (code 10015), raised as ``DiscordHTTPError``, not retried.
        """
        webhook_id, token = parse_webhook_url(webhook_url)
        route = Route(
            "POST", "/webhooks/{webhook_id}/{token}", {"webhook_id": webhook_id, "token": token}
        )
        return await self._json(route, body=message.payload(), query={"wait": "true"})

    # -- channel messages (bot token) ------------------------------------------------------

    async def edit_channel_message(
        self, channel_id: str, message_id: str, message: Message
    ) -> dict[str, Any]:
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        result = await self.request(route, body=message.channel_payload(), auth=True)
        return result if isinstance(result, dict) else {}

    async def create_channel_message(self, channel_id: str, message: Message) -> dict[str, Any]:
        route = Route("POST", "/channels/{channel_id}/messages", {"channel_id": channel_id})
        result = await self.request(route, body=message.channel_payload(), auth=True)
        return result if isinstance(result, dict) else {}

    # -- application commands (bot token) --------------------------------------------------

    async def bulk_overwrite_commands(
        self, commands: Sequence[Mapping[str, Any]], *, guild_id: str | None = None
    ) -> list[dict[str, Any]]:
        if guild_id is None:
            route = Route(
                "PUT",
                "/applications/{application_id}/commands",
                {"application_id": self.application_id},
            )
        else:
            route = Route(
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                {"application_id": self.application_id, "guild_id": guild_id},
            )
        result = await self.request(route, body=list(commands), auth=True)
        return result if isinstance(result, list) else []

    # -- transport -------------------------------------------------------------------------

    async def _json(
        self, route: Route, *, body: Any, query: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        result = await self.request(route, body=body, query=query)
        return result if isinstance(result, dict) else {}

    def _headers(self, *, auth: bool) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if auth:
            if self._bot_token is None:
                raise DiscordHTTPError(route="(bot route)", status=401, message="no bot token set")
            headers["Authorization"] = f"Bot {self._bot_token.reveal()}"
        return headers

    async def request(
        self,
        route: Route,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        auth: bool = False,
    ) -> Any:
        """Send one request, waiting out rate limits and retrying transient failures.

        POST is not idempotent: it is retried only when the request never reached Discord
        (connection refused) or Discord refused it with 429, so a follow-up is never doubled.
        """
        headers = self._headers(auth=auth)
        url = self._api_url + route.path
        failures = 0
        limited = 0
        started = time.monotonic()
        while True:
            suspended = self._limiter.suspended_for()
            if suspended > 0:
                # Too many refusals lately: stop before Cloudflare bans the IP.
                raise RequestsSuspended(route=route.key, retry_after=suspended)
            await self._limiter.acquire(route.key, route.major)
            if auth:
                await self._limiter.acquire_global()
            try:
                async with self._session.request(
                    route.method,
                    url,
                    json=body,
                    params=query,
                    headers=headers,
                    timeout=self._timeout,
                ) as response:
                    self._limiter.update(route.key, route.major, response.headers)
                    self._limiter.record_status(
                        response.status, response.headers.get("X-RateLimit-Scope")
                    )
                    if response.status == TOO_MANY_REQUESTS:
                        limited += 1
                        retry_after, is_global = await _read_429(response)
                        self._limiter.limited(
                            route.key, route.major, retry_after=retry_after, is_global=is_global
                        )
                        log.warning(
                            "discord_rate_limited",
                            route=route.key,
                            retry_after=retry_after,
                            is_global=is_global,
                            scope=response.headers.get("X-RateLimit-Scope"),
                        )
                        if limited > self._retry.max_rate_limited:
                            raise RateLimitedError(
                                route=route.key, retry_after=retry_after, is_global=is_global
                            )
                        continue
                    if response.status in RETRYABLE_STATUSES:
                        failures += 1
                        if failures >= self._retry.attempts or route.method == "POST":
                            raise await _http_error(response, route, ServerError)
                        delay = self._retry.backoff(failures)
                        log.warning(
                            "discord_server_error",
                            route=route.key,
                            status=response.status,
                            attempt=failures,
                            retry_in=round(delay, 3),
                        )
                        await asyncio.sleep(delay)
                        continue
                    if response.status >= 400:
                        raise await _http_error(response, route, DiscordHTTPError)
                    log.debug(
                        "discord_request",
                        route=route.key,
                        status=response.status,
                        duration_ms=round((time.monotonic() - started) * 1000, 1),
                    )
                    if response.status == NO_CONTENT:
                        return None
                    return await response.json(content_type=None)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                never_sent = isinstance(exc, aiohttp.ClientConnectorError)
                failures += 1
                if failures >= self._retry.attempts or (route.method == "POST" and not never_sent):
                    raise ServerError(
                        route=route.key, status=0, message=type(exc).__name__
                    ) from None
                delay = self._retry.backoff(failures)
                log.warning(
                    "discord_connection_error",
                    route=route.key,
                    error=type(exc).__name__,
                    attempt=failures,
                    retry_in=round(delay, 3),
                )
                await asyncio.sleep(delay)


_WEBHOOK_PATH: Final = re.compile(r"/webhooks/([0-9]+)/([A-Za-z0-9_\-]{20,100})/?$")


def parse_webhook_url(url: Secret) -> tuple[str, str]:
    """The id and token of a Discord webhook URL (…/api/webhooks/{id}/{token})."""
    match = _WEBHOOK_PATH.search(url.reveal().split("?", 1)[0])
    if match is None or not is_snowflake(match.group(1)):
        raise ValueError("not a Discord webhook URL")
    return match.group(1), match.group(2)


async def _read_429(response: aiohttp.ClientResponse) -> tuple[float, bool]:
    """How long to wait, from the JSON body (precise) or the Retry-After header (seconds)."""
    retry_after: float | None = None
    is_global = response.headers.get(GLOBAL_HEADER, "").lower() == "true"
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        data = None
    if isinstance(data, dict):
        value = data.get("retry_after")
        if isinstance(value, int | float):
            retry_after = float(value)
        is_global = is_global or bool(data.get("global"))
    if retry_after is None:
        try:
            retry_after = float(response.headers.get(RETRY_AFTER_HEADER, "1"))
        except ValueError:
            retry_after = 1.0
    return max(0.0, retry_after), is_global


async def _http_error(
    response: aiohttp.ClientResponse, route: Route, kind: type[DiscordHTTPError]
) -> DiscordHTTPError:
    code, message, errors = 0, response.reason or "", None
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        data = None
    if isinstance(data, dict):
        code = int(data.get("code", 0) or 0)
        message = str(data.get("message", message))
        errors = data.get("errors")
    return kind(route=route.key, status=response.status, code=code, message=message, errors=errors)
