"""The Discord stand-in: Discord's REST API on loopback (aiohttp), for ``make run``, compose
and the tests.

It answers like Discord (message objects, rate-limit headers, Discord's error bodies) and
checks every request body against the request schemas from Discord's OpenAPI description
(``schemas.py``). A body that fails the schema gets Discord's
400 "Invalid Form Body" and is recorded in ``violations``, which the test fixtures assert empty.

Faults are injected, never patched in: ``fail(...)`` queues 429s, 5xx or slow answers for the
next matching requests, and ``expire(token)`` makes an interaction token behave as Discord's
do after 15 minutes.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import web

from devtools.standin.schemas import schemas

# Discord's JSON error codes (Discord docs, "Opcodes and Status Codes").
UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008
INVALID_FORM_BODY = 50035
INVALID_WEBHOOK_TOKEN = 50027


@dataclass
class Fault:
    """What to do instead of answering normally, for the next ``times`` matching requests."""

    status: int = 500
    times: int = 1
    retry_after: float = 0.1
    is_global: bool = False
    scope: str = "user"
    delay: float = 0.0
    route: str | None = None  # a substring of "METHOD /path template"

    def matches(self, key: str) -> bool:
        return self.route is None or self.route in key


@dataclass
class Recorded:
    method: str
    route: str
    path: str
    body: Any
    at: float
    token: str | None = None
    status: int = 0


@dataclass
class InteractionState:
    application_id: str
    token: str
    original: dict[str, Any] | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    followups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Edits of the original made later through the channel endpoint, with the bot token.
    bot_edits: list[dict[str, Any]] = field(default_factory=list)
    expired: bool = False


_RECORD = web.RequestKey("record", Recorded)
_ids = itertools.count(int(time.time() * 1000) << 22)


def snowflake() -> str:
    return str(next(_ids))


def _now() -> str:
    return datetime.now(UTC).isoformat()


class DiscordStandIn:
    """Start with ``async with DiscordStandIn(...) as fake``; ``fake.url`` is the API base URL."""

    def __init__(
        self,
        *,
        application_id: str,
        bot_token: str | None = None,
        on_event: Callable[[str, Recorded, dict[str, Any] | None], None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        chaos: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.application_id = application_id
        self.bot_token = bot_token
        self.on_event = on_event
        self._host, self._port = host, port
        self._schemas = schemas()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.interactions: dict[str, InteractionState] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        # Every message by id, and which interaction's original each one is.
        self.messages: dict[str, dict[str, Any]] = {}
        self._original_of: dict[str, str] = {}
        self.channel_posts: dict[str, list[dict[str, Any]]] = {}
        # Channel webhooks (not interaction ones): id -> token, channel, and whether deleted.
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.webhook_posts: dict[str, list[dict[str, Any]]] = {}
        # What the bot may not edit through the channel route (Discord: 403 Missing Access).
        self.forbid_channel_edits = False
        # With chaos > 0, that share of requests (beyond any queued fault) gets a random one.
        self.chaos = chaos
        self._rng = random.Random(seed)
        self.faults: list[Fault] = []
        # What every answer says of its bucket; tests lower ``remaining`` to exercise waiting.
        self.bucket_remaining = 4
        self.bucket_reset_after = 0.05
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- control ---------------------------------------------------------------------------

    def fail(self, **fault: Any) -> Fault:
        injected = Fault(**fault)
        self.faults.append(injected)
        return injected

    def create_webhook(self, channel_id: str) -> str:
        """A channel webhook, as a server admin would create one; returns its URL."""
        ident = snowflake()
        token = secrets.token_urlsafe(51)
        self.webhooks[ident] = {"token": token, "channel_id": channel_id, "deleted": False}
        return f"{self.url}/webhooks/{ident}/{token}"

    async def _admin_create_webhook(self, request: web.Request) -> web.Response:
        body = request[_RECORD].body or {}
        return web.json_response({"url": self.create_webhook(str(body.get("channel_id", "0")))})

    def delete_webhook(self, url: str) -> None:
        self.webhooks[url.rstrip("/").rsplit("/", 2)[1]]["deleted"] = True

    def posts_by_webhook(self, url: str) -> list[str | None]:
        ident = url.rstrip("/").rsplit("/", 2)[1]
        return [m.get("content") for m in self.webhook_posts.get(ident, [])]

    def expire(self, token: str) -> None:
        self._state(token).expired = True

    def state(self, token: str) -> InteractionState:
        return self._state(token)

    def edits(self, token: str) -> list[str | None]:
        return [e.get("content") for e in self._state(token).edits]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds after some request; fail after ``timeout``."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        tpl = "/api/v10/webhooks/{application_id}/{token}"
        app.router.add_patch(tpl + "/messages/@original", self._edit_original)
        app.router.add_get(tpl + "/messages/@original", self._get_original)
        app.router.add_delete(tpl + "/messages/@original", self._delete_original)
        app.router.add_post(tpl, self._followup)
        app.router.add_patch(tpl + "/messages/{message_id}", self._edit_followup)
        app.router.add_patch(
            "/api/v10/channels/{channel_id}/messages/{message_id}", self._edit_channel_message
        )
        app.router.add_post("/api/v10/channels/{channel_id}/messages", self._post_channel_message)
        app.router.add_put("/api/v10/applications/{application_id}/commands", self._commands)
        app.router.add_put(
            "/api/v10/applications/{application_id}/guilds/{guild_id}/commands", self._commands
        )
        # Not Discord's: lets a separate process (compose's init) create channel webhooks.
        app.router.add_post("/_fake/webhooks", self._admin_create_webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}/api/v10"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- plumbing --------------------------------------------------------------------------

    def _state(self, token: str) -> InteractionState:
        return self.interactions.setdefault(token, InteractionState(self.application_id, token))

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        key = f"{request.method} {template.removeprefix('/api/v10')}"
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, 50109, "The request body contains invalid JSON.")
        record = Recorded(
            request.method,
            key,
            request.path,
            body,
            time.monotonic(),
            token=request.match_info.get("token"),
        )
        self.requests.append(record)
        request[_RECORD] = record
        fault = next((f for f in self.faults if f.matches(key)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        elif self.chaos and self._rng.random() < self.chaos:
            fault = self._random_fault()
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429:
                return self._finish(record, _rate_limited(fault))
            if fault.status >= 400:
                return self._finish(record, _error(fault.status, 0, f"{fault.status}: injected"))
        if request.match_info.get("application_id") not in (
            None,
            self.application_id,
            *self.webhooks,
        ):
            return self._finish(record, _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook"))
        response = await handler(request)
        return self._finish(record, response)

    def _random_fault(self) -> Fault:
        rng = self._rng
        return rng.choice(
            [
                Fault(status=429, retry_after=round(rng.uniform(0.05, 0.3), 3)),
                Fault(status=429, retry_after=0.1, is_global=True, scope="global"),
                Fault(status=500),
                Fault(status=502),
                Fault(status=503),
                Fault(status=200, delay=round(rng.uniform(0.2, 1.0), 3)),
            ]
        )

    def _finish(self, record: Recorded, response: web.StreamResponse) -> web.StreamResponse:
        record.status = response.status
        # Every answer carries a bucket, as Discord's do, so the client's limiter is exercised.
        response.headers.setdefault("X-RateLimit-Bucket", "fake-" + record.route.split()[0])
        response.headers.setdefault("X-RateLimit-Limit", "5")
        response.headers.setdefault("X-RateLimit-Remaining", str(self.bucket_remaining))
        response.headers.setdefault("X-RateLimit-Reset-After", str(self.bucket_reset_after))
        asyncio.get_running_loop().create_task(self._notify())
        return response

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _check(self, operation: str, record_body: Any) -> web.Response | None:
        problems = self._schemas.errors(operation, record_body)
        if problems:
            self.violations.extend(f"{operation}: {p}" for p in problems)
            return _error(400, INVALID_FORM_BODY, "Invalid Form Body", errors=problems)
        return None

    def _interaction(self, request: web.Request) -> InteractionState | web.Response:
        state = self._state(request.match_info["token"])
        if state.expired:
            return _error(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return state

    def _emit(self, kind: str, request: web.Request, message: dict[str, Any] | None) -> None:
        if self.on_event is not None:
            self.on_event(kind, request[_RECORD], message)

    # -- routes ----------------------------------------------------------------------------

    async def _edit_original(self, request: web.Request) -> web.Response:
        body = request[_RECORD].body
        if (refused := self._check("update_original_webhook_message", body)) is not None:
            return refused
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        state.original = _message(body, state.original)
        self.messages[state.original["id"]] = state.original
        self._original_of[state.original["id"]] = state.token
        state.edits.append(body)
        self._emit("edit_original", request, state.original)
        return web.json_response(state.original)

    async def _get_original(self, request: web.Request) -> web.Response:
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        if state.original is None:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        return web.json_response(state.original)

    async def _delete_original(self, request: web.Request) -> web.Response:
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        state.original = None
        self._emit("delete_original", request, None)
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        body = request[_RECORD].body
        if (refused := self._check("execute_webhook", body)) is not None:
            return refused
        if request.match_info["application_id"] in self.webhooks:
            return self._execute_channel_webhook(request, body)
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        message = _message(body, None)
        state.followups[message["id"]] = message
        self._emit("followup", request, message)
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204)
        return web.json_response(message)

    def _execute_channel_webhook(self, request: web.Request, body: Any) -> web.Response:
        ident = request.match_info["application_id"]
        webhook = self.webhooks[ident]
        if webhook["deleted"] or webhook["token"] != request.match_info["token"]:
            return _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        message = {**_message(body, None), "channel_id": webhook["channel_id"], "webhook_id": ident}
        self.webhook_posts.setdefault(ident, []).append(message)
        self._emit("webhook_post", request, message)
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204)
        return web.json_response(message)

    async def _edit_followup(self, request: web.Request) -> web.Response:
        body = request[_RECORD].body
        if (refused := self._check("update_webhook_message", body)) is not None:
            return refused
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        previous = state.followups.get(request.match_info["message_id"])
        if previous is None:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        message = _message(body, previous)
        state.followups[message["id"]] = message
        self._emit("edit_followup", request, message)
        return web.json_response(message)

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        if not self.bot_token or request.headers.get("Authorization") != f"Bot {self.bot_token}":
            return _error(401, 0, "401: Unauthorized")
        return None

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        body = request[_RECORD].body
        if (refused := self._check("update_message", body)) is not None:
            return refused
        if self.forbid_channel_edits:
            return _error(403, 50001, "Missing Access")
        message_id = request.match_info["message_id"]
        previous = self.messages.get(message_id)
        if previous is None or previous["channel_id"] != request.match_info["channel_id"]:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        message = self.messages[message_id] = _message(body, previous)
        token = self._original_of.get(message_id)
        if token is not None:
            state = self._state(token)
            state.original = message
            state.bot_edits.append(body)
        self._emit("bot_edit", request, message)
        return web.json_response(message)

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        body = request[_RECORD].body
        if (refused := self._check("create_message", body)) is not None:
            return refused
        channel_id = request.match_info["channel_id"]
        message = {**_message(body, None), "channel_id": channel_id, "type": 0}
        self.messages[message["id"]] = message
        self.channel_posts.setdefault(channel_id, []).append(message)
        self._emit("bot_post", request, message)
        return web.json_response(message)

    async def _commands(self, request: web.Request) -> web.Response:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        guild = request.match_info.get("guild_id")
        operation = (
            "bulk_set_guild_application_commands" if guild else "bulk_set_application_commands"
        )
        body = request[_RECORD].body
        if (refused := self._check(operation, body)) is not None:
            return refused
        stored = [
            {**c, "id": snowflake(), "application_id": self.application_id, "version": snowflake()}
            for c in body or []
        ]
        self.commands[guild] = stored
        return web.json_response(stored)


def _message(body: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    message = (
        dict(previous)
        if previous
        else {
            "id": snowflake(),
            "type": 20,
            # The channel devtools.interactions puts its interactions in.
            "channel_id": "900000000000000002",
            "content": "",
            "embeds": [],
            "attachments": [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "flags": 0,
            "timestamp": _now(),
            "edited_timestamp": None,
            "author": {"id": "100000000000000002", "username": "bot", "bot": True},
        }
    )
    for key in ("content", "embeds", "components", "flags"):
        if key in body and body[key] is not None:
            message[key] = body[key]
    if previous is not None:
        message["edited_timestamp"] = _now()
    return message


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status)


def _rate_limited(fault: Fault) -> web.Response:
    headers = {
        "Retry-After": str(max(1, round(fault.retry_after))),
        "X-RateLimit-Scope": fault.scope,
    }
    if fault.is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(fault.retry_after)}
        )
    return web.json_response(
        {
            "message": "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": fault.is_global,
            "code": 0,
        },
        status=429,
        headers=headers,
    )
