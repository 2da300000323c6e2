"""The interactions endpoint's logic, free of any web framework: bytes and headers in, a
reply out. ``app.py`` only adapts Starlette to it.

Every path answers inside Discord's 3-second window (Discord docs, "Receiving an
Interaction"): instant commands get a time budget, the enqueue gets a time budget, and every
failure becomes an ephemeral message the user can read, never a timeout or a 5xx.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final, NamedTuple, Protocol

import orjson
import structlog

from services.core.bot import CommandContext, Registry
from services.core.bot.context import as_message
from services.core.bot.errors import OptionValueError, UnknownCommandError
from services.core.discord.errors import InvalidSignature, MalformedInteraction
from services.core.discord.messages import Message
from services.core.discord.models import (
    Interaction,
    InteractionType,
    MessageFlags,
    ResponseType,
)
from services.core.discord.signature import SignatureVerifier
from services.core.errors import EnqueueError
from services.core.jobs import Job

log = structlog.get_logger("api.interactions")

JSON: Final = "application/json"
# Leaves room inside Discord's 3 s for the network both ways and for our own overhead.
INSTANT_COMMAND_BUDGET: Final = 2.0
_PONG: Final = b'{"type":1}'

UNKNOWN_COMMAND_TEXT: Final = "This command isn't available any more. Try again in a minute."
BAD_OPTIONS_TEXT: Final = "That didn't work: {problem}."
ENQUEUE_FAILED_TEXT: Final = "Sorry, I couldn't start that right now. Please try again shortly."
COMMAND_FAILED_TEXT: Final = "Sorry, something went wrong running that command."
NOT_HANDLED_TEXT: Final = "This isn't something I can handle."


class HttpReply(NamedTuple):
    status: int
    body: bytes
    content_type: str = JSON


class Enqueuer(Protocol):
    async def put(self, job: Job) -> str: ...


def _json(status: int, payload: Any) -> HttpReply:
    return HttpReply(status, orjson.dumps(payload))


def _message(message: Message) -> HttpReply:
    return _json(200, {"type": ResponseType.CHANNEL_MESSAGE_WITH_SOURCE, "data": message.payload()})


def _ephemeral(text: str) -> HttpReply:
    return _message(Message(content=text, ephemeral=True))


class InteractionHandler:
    def __init__(
        self,
        *,
        verifier: SignatureVerifier,
        registry: Registry,
        queue: Enqueuer,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._registry = registry
        self._queue = queue
        self._clock = clock
        # Bound once: the per-call lookup through structlog's lazy proxy shows on this path.
        self._log = log.bind()

    async def handle(
        self, body: bytes, *, signature: str | None, timestamp: str | None
    ) -> HttpReply:
        """Answer one request to the interactions endpoint: the raw body and the values of
        the ``X-Signature-Ed25519`` and ``X-Signature-Timestamp`` headers. One canonical log
        line each."""
        started = time.perf_counter()
        fields: dict[str, Any] = {}
        reply = await self._handle(body, signature, timestamp, fields)
        self._log.info(
            "interaction",
            status=reply.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            **fields,
        )
        return reply

    async def _handle(
        self, body: bytes, signature: str | None, timestamp: str | None, fields: dict[str, Any]
    ) -> HttpReply:
        try:
            self._verifier.verify(timestamp=timestamp, signature=signature, body=body)
        except InvalidSignature as exc:
            fields["outcome"] = "rejected"
            fields["reason"] = exc.reason
            return _json(401, {"error": "invalid request signature"})
        try:
            interaction = Interaction.from_payload(orjson.loads(body))
        except (orjson.JSONDecodeError, MalformedInteraction) as exc:
            fields["outcome"] = "malformed"
            fields["reason"] = exc.reason if isinstance(exc, MalformedInteraction) else "not JSON"
            return _json(400, {"error": "not an interaction"})
        fields.update(
            interaction_id=interaction.id,
            interaction_type=int(interaction.type),
            guild_id=interaction.guild_id,
            user_id=interaction.user_id,
        )
        match interaction.type:
            case InteractionType.PING:
                fields["outcome"] = "pong"
                return HttpReply(200, _PONG)
            case InteractionType.APPLICATION_COMMAND:
                return await self._command(interaction, fields)
            case InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
                fields["outcome"] = "autocomplete"
                return _json(
                    200,
                    {
                        "type": ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
                        "data": {"choices": []},
                    },
                )
            case InteractionType.MESSAGE_COMPONENT | InteractionType.MODAL_SUBMIT:
                fields["outcome"] = "not_handled"
                return _ephemeral(NOT_HANDLED_TEXT)
            case _:
                fields["outcome"] = "malformed"
                fields["reason"] = "unknown interaction type"
                return _json(400, {"error": "unknown interaction type"})

    async def _command(self, interaction: Interaction, fields: dict[str, Any]) -> HttpReply:
        try:
            command, kwargs = self._registry.bind(interaction.data)
            fields["command"] = command.path
        except UnknownCommandError as exc:
            fields.update(outcome="unknown_command", command=exc.name)
            return _ephemeral(UNKNOWN_COMMAND_TEXT)
        except OptionValueError as exc:
            fields.update(outcome="bad_options", reason=str(exc))
            return _ephemeral(BAD_OPTIONS_TEXT.format(problem=exc))
        if command.deferred:
            return await self._defer(interaction, command.path, command.ephemeral, fields)
        try:
            async with asyncio.timeout(INSTANT_COMMAND_BUDGET):
                result = await command.handler(CommandContext(interaction, command.path), **kwargs)
        except Exception:
            fields["outcome"] = "command_failed"
            log.exception(
                "instant_command_failed", command=command.path, interaction_id=interaction.id
            )
            return _ephemeral(COMMAND_FAILED_TEXT)
        fields["outcome"] = "replied"
        if result is None:
            result = "Done."
        return _message(as_message(result, ephemeral=command.ephemeral))

    async def _defer(
        self, interaction: Interaction, path: str, ephemeral: bool, fields: dict[str, Any]
    ) -> HttpReply:
        job = Job.for_command(interaction, path, received_at=self._clock())
        started = time.perf_counter()
        try:
            message_id = await self._queue.put(job)
        except EnqueueError as exc:
            fields.update(
                outcome="enqueue_failed",
                reason=exc.reason,
                enqueue_ms=round(exc.elapsed * 1000, 2),
            )
            return _ephemeral(ENQUEUE_FAILED_TEXT)
        fields.update(
            outcome="deferred",
            message_id=message_id,
            enqueue_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        data = {"flags": int(MessageFlags.EPHEMERAL)} if ephemeral else {}
        return _json(200, {"type": ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, "data": data})
