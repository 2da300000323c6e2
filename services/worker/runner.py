"""Runs one job: decode it, call the command's handler, deliver the final reply.

Knows nothing about SQS: it returns an ``Outcome`` and the consumer decides what happens to
the message.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Final

import structlog

from services.core.bot import JobContext, Registry
from services.core.bot.context import Responder, as_message
from services.core.bot.errors import OptionValueError, UnknownCommandError
from services.core.discord.errors import DiscordHTTPError, RateLimitedError, ServerError
from services.core.discord.models import Message
from services.core.errors import JobFormatError
from services.core.jobs import Job

log = structlog.get_logger("worker.runner")

JOB_FAILED_TEXT: Final = "Sorry, something went wrong while running this command."
UNKNOWN_COMMAND_TEXT: Final = "This command isn't available any more."


class Outcome(Enum):
    COMPLETED = "completed"  # final reply delivered: delete the message
    FAILED = "failed"  # the user was told it failed: delete the message
    INVALID = "invalid"  # not a job: keep it, the redrive policy parks it in the DLQ
    RETRY = "retry"  # Discord could not be reached: keep it, it comes back after visibility

    @property
    def delete(self) -> bool:
        return self in (Outcome.COMPLETED, Outcome.FAILED)


class JobRunner:
    def __init__(self, *, registry: Registry, rest: Responder) -> None:
        self._registry = registry
        self._rest = rest

    async def run(self, body: str, *, message_id: str, receive_count: int) -> Outcome:
        started = time.monotonic()
        log_fields: dict[str, object] = {"message_id": message_id, "receive_count": receive_count}
        try:
            job = Job.decode(body, message_id=message_id)
        except JobFormatError as exc:
            log.error("job", outcome=Outcome.INVALID.value, reason=exc.reason, **log_fields)
            return Outcome.INVALID
        log_fields.update(
            job_id=job.id,
            command=job.command,
            guild_id=job.interaction.guild_id,
            queue_wait_ms=round((time.time() - job.received_at) * 1000, 1),
        )
        with structlog.contextvars.bound_contextvars(job_id=job.id, command=job.command):
            outcome = await self._run(job)
        log.info(
            "job",
            outcome=outcome.value,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **log_fields,
        )
        return outcome

    async def _run(self, job: Job) -> Outcome:
        try:
            command, kwargs = self._registry.bind(job.interaction.data)
        except (UnknownCommandError, OptionValueError) as exc:
            log.warning("job_not_runnable", reason=str(exc))
            return await self._tell_failure(job, UNKNOWN_COMMAND_TEXT)
        ctx = JobContext(
            interaction=job.interaction,
            command_path=command.path,
            received_at=job.received_at,
            ephemeral=command.ephemeral,
            _responder=self._rest,
        )
        try:
            result = await command.handler(ctx, **kwargs)
        except (ServerError, RateLimitedError):
            log.warning("job_discord_unavailable", exc_info=True)
            return Outcome.RETRY
        except Exception:
            log.exception("job_raised")
            return await self._tell_failure(job, JOB_FAILED_TEXT)
        final = as_message(result if result is not None else "Done.", ephemeral=command.ephemeral)
        return await self._deliver(job, final)

    async def _deliver(self, job: Job, message: Message) -> Outcome:
        try:
            await self._rest.edit_original(job.interaction.token, message)
        except (ServerError, RateLimitedError) as exc:
            log.warning("final_edit_retry", status=exc.status, code=exc.code)
            return Outcome.RETRY
        except DiscordHTTPError as exc:
            # 4xx: the message is gone or the token expired; a retry cannot help.
            log.error("final_edit_refused", status=exc.status, code=exc.code, reason=exc.message)
            return Outcome.FAILED
        return Outcome.COMPLETED

    async def _tell_failure(self, job: Job, text: str) -> Outcome:
        outcome = await self._deliver(job, Message(content=text))
        return Outcome.RETRY if outcome is Outcome.RETRY else Outcome.FAILED
