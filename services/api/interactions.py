"""The interactions endpoint's logic, free of any web framework: bytes and headers in, a
reply out. ``app.py`` only adapts ASGI to it.

Every path answers inside Discord's 3-second window (Discord docs, "Receiving an
Interaction"): routes that run now get a time budget, the enqueue of a deferred one gets a
time budget, and every failure becomes an answer the user can read (an ephemeral message, or
no suggestions for autocomplete), never a timeout or a 5xx.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final, NamedTuple, Protocol

import orjson
import structlog

from services.api.admission import Admission, Refusal
from services.api.deadlines import Deadlines
from services.core.bot import CommandContext, Reply, Router, Update
from services.core.bot.context import Resources, as_message
from services.core.bot.errors import (
    ExpiredCustomId,
    OptionValueError,
    ResponseNotAllowed,
    UnknownCommandError,
)
from services.core.bot.responses import (
    InteractionResponse,
    choices_response,
    deferred_response,
    effective_defer,
    instant_response,
    message_response,
    reply_is_ephemeral,
)
from services.core.bot.routes import Match, Route, RouteKind
from services.core.discord import multipart
from services.core.discord.errors import InvalidSignature, MalformedInteraction
from services.core.discord.interaction import Interaction
from services.core.discord.messages import MAX_CONTENT_LENGTH, Message, truncate
from services.core.discord.models import InteractionType, ResponseType
from services.core.discord.signature import SignatureVerifier
from services.core.discord.split import split_content
from services.core.errors import EnqueueError
from services.core.jobs import FollowupsJob, Job, SignedBody
from services.core.logs import line_writer

log = structlog.get_logger("api.interactions")

JSON: Final = "application/json"
# Leaves room inside Discord's 3 s for the network both ways and for our own overhead.
INSTANT_COMMAND_BUDGET: Final = 2.0
# When the rest of a long answer must be queued after the handler ran: the whole request
# stays this far inside Discord's 3 s.
ANSWER_DEADLINE: Final = 2.7
# The follow-ups wait this long on the queue, so Discord has taken the answer they follow.
FOLLOWUPS_DELAY: Final = 1
TRUNCATED_NOTE: Final = "\n… (the rest of this answer could not be sent)"
_PONG: Final = b'{"type":1}'

UNKNOWN_COMMAND_TEXT: Final = "This command isn't available any more. Try again in a minute."
BAD_OPTIONS_TEXT: Final = "That didn't work: {problem}."
EXPIRED_TEXT: Final = "This has expired. Run the command again to get a fresh one."
ENQUEUE_FAILED_TEXT: Final = "Sorry, I couldn't start that right now. Please try again shortly."
COMMAND_FAILED_TEXT: Final = "Sorry, something went wrong running that command."


class Outcome(StrEnum):
    """How a request ended: the ``outcome`` of its ``interaction`` log line."""

    PONG = "pong"
    REPLIED = "replied"  # answered now (4, 6, 7, 8 or 9: see ``response_type``)
    DEFERRED = "deferred"  # queued for the worker, acknowledged with 5 or 6
    REJECTED = "rejected"  # not signed by Discord: 401
    MALFORMED = "malformed"  # signed, but not an interaction we can read: 400
    UNKNOWN_ROUTE = "unknown_command"  # a command or context menu this bot does not have
    BAD_OPTIONS = "bad_options"
    EXPIRED = "expired"  # a custom_id no route accepts
    FAILED = "command_failed"  # the handler raised, ran out of time or answered wrongly
    ENQUEUE_FAILED = "enqueue_failed"
    LIMITED = "limited"  # past a limit or budget (or no model configured): not queued


class HttpReply(NamedTuple):
    status: int
    body: bytes
    content_type: str = JSON


class _Request(NamedTuple):
    """One request to the endpoint as it arrived: what a job carries for the worker to check
    Discord's signature again, and when it started."""

    body: bytes
    signature: str | None
    timestamp: str | None
    started: float

    def signed(self) -> SignedBody:
        # Only called after the signature was verified, so both headers are there.
        return SignedBody(self.body.decode(), self.signature or "", self.timestamp or "")


class Enqueuer(Protocol):
    async def put(
        self, job: Job | FollowupsJob, *, timeout: float | None = None, delay_seconds: int = 0
    ) -> str: ...


def _json(status: int, payload: Any) -> HttpReply:
    return HttpReply(status, orjson.dumps(payload))


def _http(response: InteractionResponse) -> HttpReply:
    body = orjson.dumps(response.body())
    if not response.files:
        return HttpReply(200, body)
    encoded, content_type = multipart.encode(body, response.files)
    return HttpReply(200, encoded, content_type)


def _ephemeral(interaction: Interaction, text: str) -> HttpReply:
    """A refusal the user can read; for autocomplete (which takes nothing else), no choices."""
    if interaction.type is InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
        return _http(choices_response([]))
    message = Message(content=text, ephemeral=True)
    return _http(message_response(message, ResponseType.CHANNEL_MESSAGE_WITH_SOURCE))


def _too_long(result: object) -> bool:
    """Whether a reply's text is longer than one Discord message holds."""
    if type(result) is str:
        return len(result) > MAX_CONTENT_LENGTH
    if isinstance(result, Update):
        result = result.message
        if isinstance(result, str):
            return len(result) > MAX_CONTENT_LENGTH
    return isinstance(result, Message) and len(result.content or "") > MAX_CONTENT_LENGTH


class InteractionHandler:
    def __init__(
        self,
        *,
        verifier: SignatureVerifier,
        router: Router,
        queue: Enqueuer,
        deadlines: Deadlines,
        custom_id_key: bytes | None = None,
        admission: Admission | None = None,
        resources: Resources | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._admission = admission or Admission(limits=None, llm=None)
        self._resources = resources or Resources()
        self._verifier = verifier
        self._deadlines = deadlines
        self._router = router
        self._queue = queue
        self._key = custom_id_key
        self._ids = router.custom_ids(custom_id_key)
        self._clock = clock
        # The canonical line goes straight to the log sink: this is the hot path.
        self._line = line_writer("api.interactions")

    async def handle(
        self, body: bytes, *, signature: str | None, timestamp: str | None
    ) -> HttpReply:
        """Answer one request to the interactions endpoint: the raw body and the values of
        the ``X-Signature-Ed25519`` and ``X-Signature-Timestamp`` headers. One canonical log
        line each."""
        started = time.perf_counter()
        fields: dict[str, Any] = {}
        try:
            reply = await self._handle(_Request(body, signature, timestamp, started), fields)
        except Exception:
            # Our own bug, past every handled case: still no 5xx for Discord to count.
            log.exception("interaction_failed", **fields)
            fields["outcome"] = Outcome.FAILED
            reply = _json(400, {"error": "this request could not be handled"})
        fields["status"] = reply.status
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        self._line("interaction", fields)
        return reply

    async def _handle(self, request: _Request, fields: dict[str, Any]) -> HttpReply:
        body = request.body
        try:
            self._verifier.verify(
                timestamp=request.timestamp, signature=request.signature, body=body
            )
        except InvalidSignature as exc:
            fields.update(outcome=Outcome.REJECTED, reason=exc.reason)
            return _json(401, {"error": "invalid request signature"})
        try:
            interaction = Interaction.from_payload(orjson.loads(body))
        except (orjson.JSONDecodeError, MalformedInteraction) as exc:
            reason = exc.reason if isinstance(exc, MalformedInteraction) else "not JSON"
            fields.update(outcome=Outcome.MALFORMED, reason=reason)
            return _json(400, {"error": "not an interaction", "reason": reason})
        fields.update(
            interaction_id=interaction.id,
            interaction_type=int(interaction.type),
            guild_id=interaction.guild_id,
            user_id=interaction.user_id,
        )
        if interaction.type is InteractionType.PING:
            fields["outcome"] = Outcome.PONG
            return HttpReply(200, _PONG)
        if not isinstance(interaction.type, InteractionType):
            fields.update(outcome=Outcome.MALFORMED, reason="unknown interaction type")
            return _json(400, {"error": "unknown interaction type"})
        try:
            match = self._router.match(interaction, self._key)
        except UnknownCommandError as exc:
            fields.update(outcome=Outcome.UNKNOWN_ROUTE, command=exc.name)
            return _ephemeral(interaction, UNKNOWN_COMMAND_TEXT)
        except OptionValueError as exc:
            fields.update(outcome=Outcome.BAD_OPTIONS, reason=str(exc))
            return _ephemeral(interaction, BAD_OPTIONS_TEXT.format(problem=exc))
        except ExpiredCustomId as exc:
            fields.update(outcome=Outcome.EXPIRED, custom_id=exc.name, reason=exc.reason)
            return _ephemeral(interaction, EXPIRED_TEXT)
        fields["route"] = match.route.id
        if match.route.deferred:
            return await self._defer(interaction, match, fields, request)
        return await self._now(interaction, match, fields, request)

    async def _now(
        self, interaction: Interaction, match: Match, fields: dict[str, Any], request: _Request
    ) -> HttpReply:
        route = match.route
        try:
            result = await self._deadlines.run(
                route.handler(
                    CommandContext(interaction, route, self._ids, self._resources),
                    *match.args,
                    **match.kwargs,
                )
            )
            response = instant_response(route, interaction, result)
            if response.data is not None and _too_long(result):
                await self._queue_the_rest(
                    interaction, route, result, response, fields=fields, request=request
                )
            reply = _http(response)  # inside: a value JSON cannot hold is the handler's fault
        except (Exception, asyncio.CancelledError) as exc:
            task = asyncio.current_task()
            if isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling():
                raise  # this request is being cancelled (shutdown), not just the handler's work
            fields["outcome"] = Outcome.FAILED
            if isinstance(exc, ResponseNotAllowed):
                log.error("response_not_allowed", route=route.id, reason=exc.problem)
            elif isinstance(exc, TimeoutError):
                log.error(
                    "instant_command_too_slow",
                    route=route.id,
                    budget_s=INSTANT_COMMAND_BUDGET,
                    hint="declare it defer=True: then it runs in the worker, without a limit",
                )
            else:
                log.exception(
                    "instant_command_failed", route=route.id, interaction_id=interaction.id
                )
            if route.kind is RouteKind.AUTOCOMPLETE:
                return _http(choices_response([]))
            return _ephemeral(interaction, COMMAND_FAILED_TEXT)
        fields.update(outcome=Outcome.REPLIED, response_type=int(response.type))
        return reply

    async def _queue_the_rest(
        self,
        interaction: Interaction,
        route: Route,
        result: Reply | Update,
        response: InteractionResponse,
        *,
        fields: dict[str, Any],
        request: _Request,
    ) -> None:
        """A reply longer than one message: the answer keeps the first part (with the
        reply's buttons, embeds and files); the rest go to the worker as follow-ups."""
        message = as_message(result, ephemeral=route.ephemeral)
        first, *rest = split_content(message.content or "")
        assert response.data is not None
        response.data["content"] = first
        job = FollowupsJob(
            interaction.id,
            route.id,
            tuple(rest),
            message.ephemeral,
            dict(message.allowed_mentions),
            self._clock(),
            interaction,
            request.signed(),
        )
        left = ANSWER_DEADLINE - (time.perf_counter() - request.started)
        try:
            await self._queue.put(job, timeout=max(left, 0.05), delay_seconds=FOLLOWUPS_DELAY)
        except EnqueueError as exc:
            response.data["content"] = truncate(first + TRUNCATED_NOTE)
            fields.update(followups="not_queued", reason=exc.reason)
            return
        fields["followups"] = len(rest)

    async def _defer(
        self, interaction: Interaction, match: Match, fields: dict[str, Any], request: _Request
    ) -> HttpReply:
        route = match.route
        assert route.defer is not None
        job = Job.for_route(
            interaction,
            route.id,
            defer=effective_defer(route, interaction),
            ephemeral=reply_is_ephemeral(route, interaction),
            received_at=self._clock(),
            signed=request.signed(),
        )
        taken = await self._admission.admit(interaction, route, fields)
        if isinstance(taken, Refusal):
            fields.update(outcome=Outcome.LIMITED, reason=taken.reason)
            return _ephemeral(interaction, taken.text)
        started = time.perf_counter()
        try:
            message_id = await self._queue.put(job)
        except EnqueueError as exc:
            fields.update(
                outcome=Outcome.ENQUEUE_FAILED,
                reason=exc.reason,
                enqueue_ms=round(exc.elapsed * 1000, 2),
            )
            await self._admission.give_back(interaction, taken)
            return _ephemeral(interaction, ENQUEUE_FAILED_TEXT)
        response = deferred_response(route, interaction)
        fields.update(
            outcome=Outcome.DEFERRED,
            response_type=int(response.type),
            message_id=message_id,
            enqueue_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return _http(response)
