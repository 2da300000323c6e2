"""Discord REST client (aiohttp): the calls the worker and tools make, with rate limits
honoured and transient failures retried.

Routes are kept as templates so that logs and errors name ``/webhooks/{application_id}/{token}``
and never the token itself. A message with files goes as ``multipart/form-data`` (Discord docs,
"Uploading Files"): a ``payload_json`` part with the JSON body and one ``files[i]`` part per
file, where ``i`` is the id the body's ``attachments`` gives that file.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import structlog

from services.core.discord.errors import (
    DiscordHTTPError,
    RateLimitedError,
    RequestsSuspended,
    ServerError,
)
from services.core.discord.messages import File, Message
from services.core.discord.ratelimits import (
    GLOBAL_HEADER,
    RETRY_AFTER_HEADER,
    RateLimiter,
)
from services.core.discord.routes import Route
from services.core.discord.webhook_urls import parse_webhook_url
from services.core.env import Secret

log = structlog.get_logger("discord.rest")

USER_AGENT: Final = "DiscordBot (discord-bot-on-aws, 0.1)"
TOO_MANY_REQUESTS: Final = 429
NO_CONTENT: Final = 204
# Statuses worth another try: Discord's and Cloudflare's transient failures.
RETRYABLE_STATUSES: Final = frozenset({500, 502, 503, 504, 520, 521, 522, 524})
SCOPE_HEADER: Final = "X-RateLimit-Scope"
# The multipart part names Discord reads (docs, "Uploading Files").
PAYLOAD_PART: Final = "payload_json"
FILE_PART: Final = "files[{index}]"


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


@dataclass(frozen=True, slots=True)
class _Answer:
    """One response, read in full inside its attempt, so the connection goes back to the pool
    before any waiting and the failure handlers need no open response."""

    status: int
    reason: str
    headers: Mapping[str, str]  # aiohttp's, looked up without regard to case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


@dataclass(slots=True)
class _Tries:
    """What one request has been through so far."""

    failures: int = 0  # 5xx answers and connection failures
    limited: int = 0  # 429 answers


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
        return await self._send_message(route, message)

    async def get_original(self, token: str) -> dict[str, Any]:
        return await self._json(self._webhook("GET", "/messages/@original", token), body=None)

    async def delete_original(self, token: str) -> None:
        await self.request(self._webhook("DELETE", "/messages/@original", token))

    async def create_followup(self, token: str, message: Message) -> dict[str, Any]:
        route = self._webhook("POST", "", token)
        return await self._send_message(route, message, query={"wait": "true"})

    async def edit_followup(self, token: str, message_id: str, message: Message) -> dict[str, Any]:
        route = self._followup("PATCH", token, message_id)
        return await self._send_message(route, message)

    async def get_followup(self, token: str, message_id: str) -> dict[str, Any]:
        return await self._json(self._followup("GET", token, message_id), body=None)

    async def delete_followup(self, token: str, message_id: str) -> None:
        """Delete a follow-up; one already deleted answers 404 (code 10008), raised."""
        await self.request(self._followup("DELETE", token, message_id))

    def _followup(self, method: str, token: str, message_id: str) -> Route:
        return self._webhook(method, "/messages/{message_id}", token, message_id=message_id)

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
        return await self._send_message(route, message, query={"wait": "true"})

    # -- channel messages (bot token) ------------------------------------------------------

    async def edit_channel_message(
        self, channel_id: str, message_id: str, message: Message
    ) -> dict[str, Any]:
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        return await self._send_message(route, message, channel=True)

    async def create_channel_message(self, channel_id: str, message: Message) -> dict[str, Any]:
        route = Route("POST", "/channels/{channel_id}/messages", {"channel_id": channel_id})
        return await self._send_message(route, message, channel=True)

    async def delete_channel_message(self, channel_id: str, message_id: str) -> None:
        route = Route(
            "DELETE",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        await self.request(route, auth=True)

    async def channel_messages(self, channel_id: str, *, limit: int) -> list[dict[str, Any]]:
        """The channel's latest ``limit`` messages (1-100), newest first. Needs the bot to see
        the channel and read its history (403 otherwise)."""
        route = Route("GET", "/channels/{channel_id}/messages", {"channel_id": channel_id})
        result = await self.request(route, query={"limit": str(limit)}, auth=True)
        return [m for m in result if isinstance(m, dict)] if isinstance(result, list) else []

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

    async def _send_message(
        self,
        route: Route,
        message: Message,
        *,
        query: Mapping[str, str] | None = None,
        channel: bool = False,
    ) -> dict[str, Any]:
        """A message route. The channel ones take the bot token and no flags (a channel
        message cannot be ephemeral); the others are authorised by the token in their path."""
        body = message.channel_payload() if channel else message.payload()
        result = await self.request(
            route, body=body, files=message.files, query=query, auth=channel
        )
        return result if isinstance(result, dict) else {}

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
        files: Sequence[File] = (),
        query: Mapping[str, str] | None = None,
        auth: bool = False,
    ) -> Any:
        """Send one request, waiting out rate limits and retrying transient failures.

        POST is not idempotent: it is retried only when the request never reached Discord
        (connection refused) or Discord refused it with 429, so a follow-up is never doubled.
        With ``files`` the body goes as ``payload_json`` beside them, in a multipart form.
        """
        headers = self._headers(auth=auth)
        tries = _Tries()
        while True:
            await self._wait_turn(route, auth=auth)
            try:
                answer = await self._attempt(route, headers, body=body, files=files, query=query)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                await self._after_connection_failure(route, exc, tries)
                continue
            if answer.status == TOO_MANY_REQUESTS:
                self._after_rate_limit(route, answer, tries)
                continue
            if answer.status in RETRYABLE_STATUSES:
                await self._after_server_error(route, answer, tries)
                continue
            if answer.status >= 400:
                raise _http_error(answer, route, DiscordHTTPError)
            return None if answer.status == NO_CONTENT else answer.json()

    async def _wait_turn(self, route: Route, *, auth: bool) -> None:
        """Wait for the route's bucket (and the bot's global limit), or refuse to send."""
        suspended = self._limiter.suspended_for()
        if suspended > 0:
            # Too many refusals lately: stop before Cloudflare bans the IP.
            raise RequestsSuspended(route=route.key, retry_after=suspended)
        await self._limiter.acquire(route.key, route.major)
        if auth:
            await self._limiter.acquire_global()

    async def _attempt(
        self,
        route: Route,
        headers: Mapping[str, str],
        *,
        body: Any,
        files: Sequence[File],
        query: Mapping[str, str] | None,
    ) -> _Answer:
        """One try: send, note what the answer says of the limits, read it in full."""
        # A form is spent once sent (aiohttp streams it), so each attempt builds its own.
        payload: dict[str, Any] = {"data": _form(body, files)} if files else {"json": body}
        started = time.monotonic()
        async with self._session.request(
            route.method,
            self._api_url + route.path,
            params=query,
            headers=headers,
            timeout=self._timeout,
            **payload,
        ) as response:
            self._limiter.update(route.key, route.major, response.headers)
            self._limiter.record_status(response.status, response.headers.get(SCOPE_HEADER))
            answer = _Answer(
                response.status, response.reason or "", response.headers, await response.read()
            )
        # One line per answer, retries and refusals included: the metrics of Discord's
        # requests by route template and status (services.core.metrics).
        log.info(
            "discord_request",
            route=route.key,
            status=answer.status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return answer

    def _after_rate_limit(self, route: Route, answer: _Answer, tries: _Tries) -> None:
        """A 429: the limiter holds the bucket (or everything) for ``retry_after``; give up
        after ``max_rate_limited`` of them in a row."""
        tries.limited += 1
        retry_after, is_global = _read_429(answer)
        self._limiter.limited(route.key, route.major, retry_after=retry_after, is_global=is_global)
        log.warning(
            "discord_rate_limited",
            route=route.key,
            retry_after=retry_after,
            is_global=is_global,
            scope=answer.headers.get(SCOPE_HEADER),
        )
        if tries.limited > self._retry.max_rate_limited:
            raise RateLimitedError(route=route.key, retry_after=retry_after, is_global=is_global)

    async def _after_server_error(self, route: Route, answer: _Answer, tries: _Tries) -> None:
        """A retryable 5xx: back off and go again, unless the attempts are spent or it was a
        POST, which Discord may have carried out before failing."""
        tries.failures += 1
        if tries.failures >= self._retry.attempts or route.method == "POST":
            raise _http_error(answer, route, ServerError)
        delay = self._retry.backoff(tries.failures)
        log.warning(
            "discord_server_error",
            route=route.key,
            status=answer.status,
            attempt=tries.failures,
            retry_in=round(delay, 3),
        )
        await asyncio.sleep(delay)

    async def _after_connection_failure(
        self, route: Route, exc: aiohttp.ClientConnectionError | TimeoutError, tries: _Tries
    ) -> None:
        """No answer: back off and go again. A POST only when it never left (connection
        refused); after a timeout or a dropped connection Discord may have acted on it."""
        never_sent = isinstance(exc, aiohttp.ClientConnectorError)
        tries.failures += 1
        give_up = tries.failures >= self._retry.attempts or (
            route.method == "POST" and not never_sent
        )
        delay = self._retry.backoff(tries.failures)
        log.warning(
            "discord_connection_error",
            route=route.key,
            error=type(exc).__name__,
            attempt=tries.failures,
            retry_in=None if give_up else round(delay, 3),
        )
        if give_up:
            raise ServerError(route=route.key, status=0, message=type(exc).__name__) from None
        await asyncio.sleep(delay)


def _form(body: Any, files: Sequence[File]) -> aiohttp.FormData:
    """Discord's multipart body: the JSON as ``payload_json``, each file as ``files[i]``."""
    # Unquoted fields: percent-encoded file names (aiohttp's default) would reach the user
    # as "my%20report.pdf". aiohttp still escapes quotes and backslashes.
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(PAYLOAD_PART, json.dumps(body), content_type="application/json")
    for index, file in enumerate(files):
        form.add_field(
            FILE_PART.format(index=index),
            # A stream, not the bytes: aiohttp then writes a large file in chunks instead of
            # holding the event loop for one write (and warns about bytes over 1 MiB).
            io.BytesIO(file.data),
            filename=file.filename,
            content_type=file.content_type,
        )
    return form


def _read_429(answer: _Answer) -> tuple[float, bool]:
    """How long to wait, from the JSON body (precise) or the Retry-After header (seconds)."""
    retry_after: float | None = None
    is_global = answer.headers.get(GLOBAL_HEADER, "").lower() == "true"
    data = answer.json_or_none()
    if isinstance(data, dict):
        value = data.get("retry_after")
        if isinstance(value, int | float):
            retry_after = float(value)
        is_global = is_global or bool(data.get("global"))
    if retry_after is None:
        try:
            retry_after = float(answer.headers.get(RETRY_AFTER_HEADER, "1"))
        except ValueError:
            retry_after = 1.0
    return max(0.0, retry_after), is_global


def _http_error(answer: _Answer, route: Route, kind: type[DiscordHTTPError]) -> DiscordHTTPError:
    """A refusal as an error carrying Discord's status, JSON code, message and field errors."""
    code, message, errors = 0, answer.reason, None
    data = answer.json_or_none()
    if isinstance(data, dict):
        code = int(data.get("code", 0) or 0)
        message = str(data.get("message", message))
        errors = data.get("errors")
    return kind(route=route.key, status=answer.status, code=code, message=message, errors=errors)
