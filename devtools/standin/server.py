"""The Discord stand-in: Discord's REST API on loopback (aiohttp), for ``make run``, compose
and the tests; and Discord's side of an interaction, delivered to the bot's endpoint.

It answers like Discord (message objects, rate-limit headers, Discord's error bodies) and
checks every request body against the request schemas from Discord's OpenAPI description
(``schemas.py``), a multipart body's ``payload_json`` included (``multipart.py``). A body that
fails the schema, or whose ``attachments`` and uploaded ``files[n]`` parts do not name each
other, gets Discord's 400 "Invalid Form Body" and is recorded in ``violations``, which the
test fixtures assert empty; so is a file over Discord's 10 MiB (413).

Faults are injected, never patched in: ``fail(...)`` queues 429s, 5xx or slow answers for the
next matching requests, and ``expire(token)`` makes an interaction token behave as Discord's
do after 15 minutes.

``connect(url, key)`` then ``interact(payload)`` plays Discord towards the bot
(``delivery.py``): the interaction goes signed, the answer is checked and applied to the
stand-in's state (``state.py``), so later edits of ``@original`` land where Discord would put
them. ``POST /_fake/interactions`` does the same for another process (``devtools.send``).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from nacl.signing import SigningKey

from devtools import loopback
from devtools.sandbox import Sandbox, Scheduler
from devtools.standin import guard
from devtools.standin.channels import BotRoutes
from devtools.standin.delivery import (
    ANSWER_OPERATION,
    Endpoint,
    InteractionResult,
    NotConnectedError,
    apply_answer,
    check_answer,
    deliver,
    interaction_metadata,
)
from devtools.standin.multipart import (
    MAX_FILE_SIZE,
    MULTIPART,
    InvalidPayloadJson,
    UploadedFile,
    read_form,
    read_upload,
    upload_problems,
    upload_too_large,
)
from devtools.standin.refusals import (
    INVALID_JSON,
    INVALID_WEBHOOK_TOKEN,
    REQUEST_TOO_LARGE,
    UNKNOWN_WEBHOOK,
    Fault,
    error,
    invalid_form_body,
    random_fault,
    rate_limited,
    unknown_message,
)
from devtools.standin.schemas import schemas
from devtools.standin.state import (
    DEFAULT_CONTENT_TYPE,
    RECORD,
    DiscordState,
    InteractionState,
    Recorded,
    snowflake,
)

# The stand-in's own routes, not Discord's: never recorded, never faulted. Discord's are
# under DISCORD_PREFIX; the sandbox page is at the root.
FAKE_PREFIX: Final = "/_fake/"
DISCORD_PREFIX: Final = "/api/"
# What a channel webhook is called unless its creator names it (Discord's default name).
WEBHOOK_NAME: Final = "Captain Hook"
# Discord docs, "Execute Webhook": a post's username is 1-80 characters.
MAX_WEBHOOK_USERNAME: Final = 80
MAX_BODY: Final = MAX_FILE_SIZE + 1024 * 1024


EventHandler = Callable[[str, Recorded, dict[str, Any] | None], None]


class DiscordStandIn:
    """Start with ``async with DiscordStandIn(...) as fake``; ``fake.url`` is the API base URL.

    ``on_event(kind, record, message)`` is called for what the bot did (``edit_original``,
    ``followup``, ``bot_post``…) and for answers applied to delivered interactions
    (``reply``, ``deferred``, ``update``, ``modal``, ``autocomplete``, or ``failed``).
    """

    def __init__(
        self,
        *,
        application_id: str,
        bot_token: str | None = None,
        on_event: EventHandler | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        chaos: float = 0.0,
        seed: int = 0,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.application_id = application_id
        self.bot_token = bot_token
        self.on_event = on_event
        # More watchers of the same events (the sandbox page's live view).
        self.listeners: list[EventHandler] = []
        self.scheduler = scheduler
        self._host, self._port = host, port
        self._schemas = schemas()
        self.store = DiscordState(application_id)
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.deliveries: list[InteractionResult] = []
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.channel_posts: dict[str, list[dict[str, Any]]] = {}
        # Channel webhooks (not interaction ones): id -> token, channel, and whether deleted.
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.webhook_posts: dict[str, list[dict[str, Any]]] = {}
        # What the bot may not edit through the channel route (Discord: 403 Missing Access).
        self.forbid_channel_edits = False
        # Whether the bot may read a channel's messages (Discord: 403 Missing Access).
        self.forbid_channel_reads = False
        # With chaos > 0, that share of requests (beyond any queued fault) gets a random one.
        self.chaos = chaos
        self._rng = random.Random(seed)
        self.faults: list[Fault] = []
        # What every answer says of its bucket; tests lower ``remaining`` to exercise waiting.
        self.bucket_remaining = 4
        self.bucket_reset_after = 0.05
        self._changed = asyncio.Condition()
        self._notifying: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._endpoint: Endpoint | None = None
        self.url = ""

    # -- state -----------------------------------------------------------------------------

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """Every message by id."""
        return self.store.messages

    @property
    def interactions(self) -> dict[str, InteractionState]:
        return self.store.interactions

    def state(self, token: str) -> InteractionState:
        return self.store.state(token)

    def edits(self, token: str) -> list[str | None]:
        return [e.get("content") for e in self.store.state(token).edits]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds after some request; fail after ``timeout``."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # -- control ---------------------------------------------------------------------------

    def fail(self, **fault: Any) -> Fault:
        injected = Fault(**fault)
        self.faults.append(injected)
        return injected

    def expire(self, token: str) -> None:
        self.store.state(token).expired = True

    def create_webhook(self, channel_id: str, name: str = WEBHOOK_NAME) -> str:
        """A channel webhook, as a server admin would create one; returns its URL."""
        ident = snowflake()
        token = secrets.token_urlsafe(51)
        self.webhooks[ident] = {
            "token": token,
            "channel_id": channel_id,
            "name": name,
            "deleted": False,
        }
        return f"{self.url}/webhooks/{ident}/{token}"

    def delete_webhook(self, url: str) -> None:
        self.webhooks[url.rstrip("/").rsplit("/", 2)[1]]["deleted"] = True

    def posts_by_webhook(self, url: str) -> list[str | None]:
        ident = url.rstrip("/").rsplit("/", 2)[1]
        return [m.get("content") for m in self.webhook_posts.get(ident, [])]

    # -- Discord's side of an interaction --------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether interactions can be delivered (``connect`` was called)."""
        return self._endpoint is not None

    def connect(self, interactions_url: str, signing_key: SigningKey) -> None:
        """Deliver interactions to ``interactions_url``, signed with ``signing_key``: the bot
        must know ``signing_key.verify_key`` as Discord's public key."""
        self._endpoint = Endpoint(interactions_url, signing_key)

    async def interact(self, payload: dict[str, Any]) -> InteractionResult:
        """Send ``payload`` to the bot as Discord would, and apply its answer as Discord would.

        An answer Discord would refuse (not a 200, not the schema, not a type this interaction
        takes) is applied to nothing; a refused 200 is recorded in ``violations``.
        """
        if self._endpoint is None or self._session is None:
            raise NotConnectedError
        sent = await deliver(self._session, self._endpoint, payload)
        result = check_answer(self._schemas, self.store, payload, sent)
        self.violations.extend(f"{ANSWER_OPERATION}: {p}" for p in result.violations)
        self.deliveries.append(result)
        record = Recorded(
            "POST",
            "POST /interactions",
            urlsplit(self._endpoint.url).path,
            payload,
            time.monotonic(),
            token=payload.get("token"),
            status=result.status,
        )
        if result.accepted:
            applied = apply_answer(self.store, payload, result.response, result.files)
            if applied is not None:
                self._emit_record(applied[0], record, applied[1])
        else:
            self._emit_record("failed", record, None)
        await self._notify()
        return result

    def user_message(
        self, content: str, *, channel_id: str, author: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A message a member posted in a channel (the bot reads it back, as in Discord)."""
        member = dict(author or {"id": "100000000000000009", "username": "member"})
        message = self.store.create(
            {"content": content}, channel_id=channel_id, type=0, author=member
        )
        self._emit_record("user_message", Recorded("POST", "user_message", "", None, 0.0), message)
        return message

    def host_file(self, filename: str, data: bytes, content_type: str) -> dict[str, Any]:
        """A file a user attached to an interaction: its attachment object, with a URL this
        stand-in serves, as Discord's CDN would."""
        upload = UploadedFile("files[0]", filename, content_type, data)
        return self.store.store_upload({"filename": filename}, upload)

    def message_with(self, custom_id: str) -> tuple[dict[str, Any], str] | None:
        """The newest message carrying a component with this custom_id, or whose custom_id
        starts with it and a ":" (``again`` finds ``again:1:10:…``): the one a user would
        click on, and the component's whole custom_id."""
        for message in reversed(list(self.messages.values())):
            for row in message.get("components") or []:
                for component in row.get("components") or []:
                    found = component.get("custom_id")
                    if isinstance(found, str) and (
                        found == custom_id or found.startswith(custom_id + ":")
                    ):
                        return message, found
        return None

    async def _find_message(self, request: web.Request) -> web.Response:
        found = self.message_with(request.query.get("custom_id", ""))
        if found is None:
            return web.json_response({"error": "no message carries that custom_id"}, status=404)
        return web.json_response({"message": found[0], "custom_id": found[1]})

    def modal_with(self, custom_id: str) -> str | None:
        """The custom_id of the newest modal the bot opened whose id is ``custom_id`` or
        starts with it and a ":" (the template's name is enough), as ``message_with``."""
        for state in reversed(list(self.interactions.values())):
            found = (state.modal or {}).get("custom_id")
            if isinstance(found, str) and (found == custom_id or found.startswith(custom_id + ":")):
                return found
        return None

    async def _find_modal(self, request: web.Request) -> web.Response:
        found = self.modal_with(request.query.get("custom_id", ""))
        if found is None:
            return web.json_response({"error": "the bot opened no such modal"}, status=404)
        return web.json_response({"custom_id": found})

    async def _host_file(self, request: web.Request) -> web.Response:
        """A file a user attaches to a command (``?filename=``, the body its bytes): its
        attachment object, as the interaction's ``resolved.attachments`` carries it."""
        filename = request.query.get("filename", "file")
        content_type = request.headers.get("Content-Type", DEFAULT_CONTENT_TYPE)
        data = await read_upload(request)
        if data is None:
            return upload_too_large(filename)
        return web.json_response(self.host_file(filename, data, content_type))

    async def _fake_interaction(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested past what json parses
            payload = None
        if not isinstance(payload, dict):
            return web.json_response(
                {"error": "the body must be an interaction payload: a JSON object"}, status=400
            )
        try:
            result = await self.interact(payload)
        except NotConnectedError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response(result.summary())

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        # Room for a file at Discord's limit (a page's upload, a bot's JSON body).
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_BODY)
        tpl = "/api/v10/webhooks/{application_id}/{token}"
        app.router.add_patch(tpl + "/messages/@original", self._edit_original)
        app.router.add_get(tpl + "/messages/@original", self._get_original)
        app.router.add_delete(tpl + "/messages/@original", self._delete_original)
        app.router.add_post(tpl, self._followup)
        app.router.add_get(tpl + "/messages/{message_id}", self._get_followup)
        app.router.add_patch(tpl + "/messages/{message_id}", self._edit_followup)
        app.router.add_delete(tpl + "/messages/{message_id}", self._delete_followup)
        BotRoutes(self).add_to(app.router, "/api/v10")
        # Not Discord's: lets a separate process (compose's init) create channel webhooks,
        # deliver interactions (devtools.send), and a browser show uploaded files.
        app.router.add_post(FAKE_PREFIX + "webhooks", self._admin_create_webhook)
        app.router.add_post(FAKE_PREFIX + "interactions", self._fake_interaction)
        app.router.add_get(FAKE_PREFIX + "messages", self._find_message)
        app.router.add_get(FAKE_PREFIX + "modals", self._find_modal)
        app.router.add_post(FAKE_PREFIX + "files", self._host_file)
        app.router.add_get(FAKE_PREFIX + "attachments/{attachment_id}/{filename}", self._file)
        # The browser page at the root: the bot as a Discord user would see and use it.
        sandbox = Sandbox(self)
        sandbox.add_to(app)
        self._session = aiohttp.ClientSession()
        self._runner, root = await loopback.serve(app, self._host, self._port)
        self.url = root + "/api/v10"
        self.store.files_url = root + FAKE_PREFIX + "attachments"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            if self._runner is not None:
                await self._runner.cleanup()
        finally:
            if self._session is not None:
                await self._session.close()

    # -- plumbing --------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if not request.path.startswith(DISCORD_PREFIX):
            if (refused := guard.refusal(request)) is not None:
                return refused
            response: web.StreamResponse = await handler(request)
            return response
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        key = f"{request.method} {template.removeprefix('/api/v10')}"
        record = Recorded(
            request.method,
            key,
            request.path,
            None,
            time.monotonic(),
            token=request.match_info.get("token"),
        )
        self.requests.append(record)
        request[RECORD] = record
        if (refused := await self._read_body(request, record)) is not None:
            return self._finish(record, refused)
        fault = next((f for f in self.faults if f.matches(key)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        elif self.chaos and self._rng.random() < self.chaos:
            fault = random_fault(self._rng)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429:
                return self._finish(record, rate_limited(fault))
            if fault.status >= 400:
                return self._finish(record, error(fault.status, 0, f"{fault.status}: injected"))
        if request.match_info.get("application_id") not in (
            None,
            self.application_id,
            *self.webhooks,
        ):
            return self._finish(record, error(404, UNKNOWN_WEBHOOK, "Unknown Webhook"))
        return self._finish(record, await handler(request))

    async def _read_body(self, request: web.Request, record: Recorded) -> web.Response | None:
        """Fill ``record`` with the body (JSON, or multipart's payload_json and files), or
        refuse it as Discord would."""
        if not request.can_read_body:
            return None
        if request.content_type != MULTIPART:
            try:
                record.body = await request.json()
            except (ValueError, RecursionError):  # RecursionError: nested past what json parses
                return error(400, INVALID_JSON, "The request body contains invalid JSON.")
            return None
        try:
            form = await read_form(await request.multipart())
        except InvalidPayloadJson:
            return error(400, INVALID_JSON, "The request body contains invalid JSON.")
        except ValueError as exc:  # no boundary, a broken part: aiohttp's words for it
            self.violations.append(f"{record.route}: not a readable multipart body ({exc})")
            return invalid_form_body([f"(body): {exc}"])
        record.body, record.files = form.payload, list(form.files)
        if form.too_large:
            self.violations.extend(
                f"{record.route}: {name} is {size} bytes, over Discord's limit"
                for name, size in form.too_large
            )
            return error(413, REQUEST_TOO_LARGE, "Request entity too large")
        if form.problems:
            self.violations.extend(f"{record.route}: {p}" for p in form.problems)
            return invalid_form_body(list(form.problems))
        return None

    def _finish(self, record: Recorded, response: web.StreamResponse) -> web.StreamResponse:
        record.status = response.status
        # Every answer carries a bucket, as Discord's do, so the client's limiter is exercised.
        response.headers.setdefault("X-RateLimit-Bucket", "fake-" + record.route.split()[0])
        response.headers.setdefault("X-RateLimit-Limit", "5")
        response.headers.setdefault("X-RateLimit-Remaining", str(self.bucket_remaining))
        response.headers.setdefault("X-RateLimit-Reset-After", str(self.bucket_reset_after))
        # Waiters are woken once the handler has changed the state; the task is kept so it is
        # not collected before it runs.
        task = asyncio.get_running_loop().create_task(self._notify())
        self._notifying.add(task)
        task.add_done_callback(self._notifying.discard)
        return response

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- checks and events, for every route (``channels.py``'s too) ------------------------

    def check_body(self, operation: str, body: Any) -> web.Response | None:
        """Refuse a body that Discord's schema for ``operation`` refuses."""
        problems = self._schemas.errors(operation, body)
        if problems:
            self.violations.extend(f"{operation}: {p}" for p in problems)
            return invalid_form_body(problems)
        return None

    def check_uploads(self, request: web.Request, previous: Any) -> web.Response | None:
        """Refuse ``attachments`` that name no upload (nor, on an edit, an attachment the
        message has), and uploads that ``attachments`` does not name."""
        record = request[RECORD]
        existing = self.store.attachment_ids(previous)
        problems = upload_problems(record.body, record.files, existing)
        if problems:
            self.violations.extend(f"{record.route}: {p}" for p in problems)
            return invalid_form_body(problems)
        return None

    def _interaction(self, request: web.Request) -> InteractionState | web.Response:
        state = self.store.state(request.match_info["token"])
        if state.expired:
            return error(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return state

    def emit(self, kind: str, request: web.Request, message: dict[str, Any] | None) -> None:
        self._emit_record(kind, request[RECORD], message)

    def _emit_record(self, kind: str, record: Recorded, message: dict[str, Any] | None) -> None:
        if self.on_event is not None:
            self.on_event(kind, record, message)
        for listener in self.listeners:
            listener(kind, record, message)

    # -- interaction webhook routes --------------------------------------------------------

    async def _edit_original(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        if (refused := self.check_body("update_original_webhook_message", record.body)) is not None:
            return refused
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        if (refused := self.check_uploads(request, state.original)) is not None:
            return refused
        if state.original is None:
            if state.response is not None:
                # Delivered here, and its answer left no message (a modal, choices) or the
                # message was deleted: Discord has nothing to edit.
                return unknown_message()
            # Not delivered by the stand-in (the API's answer went to a test, not here): the
            # first edit makes the original, as if Discord had kept a deferral's placeholder.
            message = self.store.create(record.body, files=record.files)
            self.store.make_original(state.token, message)
        else:
            message = self.store.edit(state.original, record.body, files=record.files)
        state.edits.append(record.body)
        self.emit("edit_original", request, message)
        return web.json_response(message)

    async def _get_original(self, request: web.Request) -> web.Response:
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        if state.original is None:
            return unknown_message()
        return web.json_response(state.original)

    async def _delete_original(self, request: web.Request) -> web.Response:
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        deleted = state.original
        if deleted is not None:
            self.store.delete(deleted["id"])
        state.original = None
        self.emit("delete_original", request, deleted)
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        if (refused := self.check_body("execute_webhook", record.body)) is not None:
            return refused
        if (refused := self.check_uploads(request, None)) is not None:
            return refused
        if request.match_info["application_id"] in self.webhooks:
            return self._execute_channel_webhook(request)
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        channel_id = (state.original or {}).get("channel_id")
        where = {"channel_id": channel_id} if channel_id else {}
        if state.interaction is not None:
            # As Discord does: a follow-up names the interaction it answers, and who asked.
            where["interaction"] = interaction_metadata(self.store, state.interaction)
        message = self.store.create(record.body, files=record.files, **where)
        state.followups[message["id"]] = message
        self.emit("followup", request, message)
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204)
        return web.json_response(message)

    def _execute_channel_webhook(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        ident = request.match_info["application_id"]
        webhook = self.webhooks[ident]
        if webhook["deleted"] or webhook["token"] != request.match_info["token"]:
            return error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        # Discord shows a webhook's post under the name the post asks for, else the webhook's.
        username = record.body.get("username")
        if username is not None and not (
            isinstance(username, str) and 1 <= len(username) <= MAX_WEBHOOK_USERNAME
        ):
            problem = f"username: must be 1-{MAX_WEBHOOK_USERNAME} characters of text"
            self.violations.append(f"{record.route}: {problem}")
            return invalid_form_body([problem])
        author = {"id": ident, "username": username or webhook["name"]}
        message = self.store.create(
            record.body,
            files=record.files,
            channel_id=webhook["channel_id"],
            webhook_id=ident,
            author=author | {"bot": True, "discriminator": "0000"},
        )
        self.webhook_posts.setdefault(ident, []).append(message)
        self.emit("webhook_post", request, message)
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204)
        return web.json_response(message)

    def _live_followup(
        self, request: web.Request
    ) -> tuple[InteractionState, dict[str, Any]] | web.Response:
        """The follow-up the route names, unless the token has expired or it was deleted."""
        state = self._interaction(request)
        if isinstance(state, web.Response):
            return state
        message_id = request.match_info["message_id"]
        message = state.followups.get(message_id)
        if message is None or message_id in state.deleted_followups:
            return unknown_message()
        return state, message

    async def _get_followup(self, request: web.Request) -> web.Response:
        found = self._live_followup(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found[1])

    async def _edit_followup(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        if (refused := self.check_body("update_webhook_message", record.body)) is not None:
            return refused
        found = self._live_followup(request)
        if isinstance(found, web.Response):
            return found
        if (refused := self.check_uploads(request, found[1])) is not None:
            return refused
        message = self.store.edit(found[1], record.body, files=record.files)
        self.emit("edit_followup", request, message)
        return web.json_response(message)

    async def _delete_followup(self, request: web.Request) -> web.Response:
        found = self._live_followup(request)
        if isinstance(found, web.Response):
            return found
        state, message = found
        state.deleted_followups.add(message["id"])
        self.store.delete(message["id"])
        self.emit("delete_followup", request, message)
        return web.Response(status=204)

    # -- the stand-in's own routes ---------------------------------------------------------

    async def _admin_create_webhook(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            body = {}
        channel_id = str((body if isinstance(body, dict) else {}).get("channel_id", "0"))
        return web.json_response({"url": self.create_webhook(channel_id)})

    async def _file(self, request: web.Request) -> web.Response:
        upload = self.store.files.get(request.match_info["attachment_id"])
        if upload is None:
            return web.json_response({"error": "no such attachment"}, status=404)
        headers = {
            "Content-Type": upload.content_type or DEFAULT_CONTENT_TYPE,
            # The bytes are the bot's, the type is what it claimed: a page served from here
            # must not run scripts in the stand-in's origin.
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
        }
        return web.Response(body=upload.data, headers=headers)
