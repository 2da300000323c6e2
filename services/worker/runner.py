"""Runs one job: decode it, call the command's handler, deliver the final reply.

Knows nothing about SQS: it returns an ``Outcome`` and the consumer decides what happens to
the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from typing import Final, Protocol

import structlog

from services.core.bot import JobContext, Router
from services.core.bot.context import Resources, Sent, Update, as_message
from services.core.bot.errors import ExpiredCustomId, OptionValueError, UnknownCommandError
from services.core.bot.responses import DONE_TEXT
from services.core.bot.routes import Defer, Route
from services.core.discord.errors import (
    DiscordHTTPError,
    RateLimitedError,
    ReplyUnreachable,
    ServerError,
)
from services.core.discord.messages import Message
from services.core.discord.reply import OriginalReply, ReplyApi
from services.core.errors import JobFormatError
from services.core.jobs import FollowupsJob, Job, JobCodec, TaskJob
from services.core.limits import RENEW_EVERY, JobLimits
from services.core.llm.routes import uses_model
from services.core.tasks import TaskContext, TaskRegistry
from services.core.webhooks import WebhookApi, WebhookDelivery
from services.worker.delivery import deliver_all, follow_up, tell_failure
from services.worker.idempotency import ClaimState, Ledger, NoLedger
from services.worker.outcomes import Outcome, Redelivery, Verdict

log = structlog.get_logger("worker.runner")


class DiscordApi(ReplyApi, WebhookApi, Protocol):
    """What jobs need of the REST client (``DiscordRest``)."""


JOB_FAILED_TEXT: Final = "Sorry, something went wrong while running this command."
INCOMPLETE_TEXT: Final = "(The rest of this answer could not be delivered.)"
UNKNOWN_COMMAND_TEXT: Final = "This command isn't available any more."


class JobRunner:
    def __init__(
        self,
        *,
        router: Router,
        rest: DiscordApi,
        codec: JobCodec,
        bot_token: bool = False,
        ledger: Ledger | None = None,
        retry: Redelivery | None = None,
        lock_refresh: float = 20.0,
        resources: Resources | None = None,
        tasks: TaskRegistry | None = None,
        custom_id_key: bytes | None = None,
        limits: JobLimits | None = None,
    ) -> None:
        self._limits = limits
        self._resources = resources or Resources()
        self._tasks = tasks
        self._router = router
        self._codec = codec
        self._key = custom_id_key
        self._ids = router.custom_ids(custom_id_key)
        self._rest = rest
        self._bot_token = bot_token
        self._ledger = ledger or NoLedger()
        self._retry = retry or Redelivery()
        self._lock_refresh = lock_refresh

    async def run(self, body: str, *, message_id: str, receive_count: int) -> Verdict:
        started = time.monotonic()
        log_fields: dict[str, object] = {"message_id": message_id, "receive_count": receive_count}
        try:
            job = self._codec.decode(body, message_id=message_id)
        except JobFormatError as exc:
            log.error("job", outcome=Outcome.INVALID.value, reason=exc.reason, **log_fields)
            # Visible again at once: the receives the redrive policy counts come quickly, and
            # it is parked in the dead-letter queue without waiting out the visibility timeout.
            return Verdict(Outcome.INVALID, retry_in=0)
        name = job.name
        log_fields.update(
            job_id=job.id,
            kind=job.kind.value,
            command=name,
            queue_wait_ms=round((time.time() - job.received_at) * 1000, 1),
        )
        if not isinstance(job, TaskJob):
            log_fields.update(route=job.route, guild_id=job.interaction.guild_id)
        with structlog.contextvars.bound_contextvars(job_id=job.id, command=name):
            verdict = await self._claimed(job, receive_count)
            if isinstance(job, Job) and verdict.outcome.ended:
                for limits in self._places(job):
                    await limits.give_back(job.id, **_subjects(job))
        log.info(
            "job",
            outcome=verdict.outcome.value,
            retry_in=verdict.retry_in,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **log_fields,
        )
        return verdict

    async def _claimed(self, job: Job | FollowupsJob | TaskJob, receive_count: int) -> Verdict:
        """Run the job under its lock, and record what became of it."""
        claim = await self._ledger.acquire(job.id)
        match claim.state:
            case ClaimState.COMPLETED:
                return Verdict(Outcome.DUPLICATE)
            case ClaimState.BUSY:
                return Verdict(Outcome.BUSY, retry_in=claim.retry_in)
        reply = None if isinstance(job, TaskJob) else self._reply_for(job)
        if claim.state is ClaimState.UNAVAILABLE:
            # The ledger cannot be asked; on the last receive the user is told all the same.
            return await self._not_now(job, reply, receive_count)
        keepers = [asyncio.create_task(self._keep_lock(job.id))]
        if isinstance(job, Job):
            keepers += [asyncio.create_task(self._keep_place(job, p)) for p in self._places(job)]
        if reply is not None:
            keepers.append(asyncio.create_task(reply.learn_before_expiry()))
        try:
            if isinstance(job, Job) and reply is not None:
                outcome = await self._run(job, reply)
            elif isinstance(job, FollowupsJob) and reply is not None:
                outcome = await self._run_followups(job, reply)
            else:
                outcome = await self._run_task(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._ledger.release(job.id))
            raise
        finally:
            for keeper in keepers:
                keeper.cancel()
        if outcome in (Outcome.COMPLETED, Outcome.FAILED):
            await self._ledger.complete(job.id)
            return Verdict(outcome)
        await self._ledger.release(job.id)
        return await self._not_now(job, reply, receive_count)

    async def _not_now(
        self, job: Job | FollowupsJob | TaskJob, reply: OriginalReply | None, receive_count: int
    ) -> Verdict:
        """A job that could not run (or finish) this time: run it again later, unless this
        was its last allowed receive; then the user is told, whatever failed."""
        if receive_count < self._retry.max_receives or reply is None:
            return Verdict(Outcome.RETRY, retry_in=self._retry.delay(receive_count))
        # The next receive dead-letters it: tell the user now, while we still can.
        log.error("job_parked", receive_count=receive_count)
        if isinstance(job, FollowupsJob):  # the reply holds the first part: keep it
            with contextlib.suppress(DiscordHTTPError, ReplyUnreachable):
                await reply.followup(Message(content=INCOMPLETE_TEXT, ephemeral=job.ephemeral))
        else:
            await tell_failure(reply, JOB_FAILED_TEXT)
        # Visible at once: the next receive is the one that moves it to the DLQ.
        return Verdict(Outcome.PARKED, retry_in=0)

    async def _keep_lock(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self._lock_refresh)
            await self._ledger.extend(job_id)

    def _places(self, job: Job) -> list[JobLimits]:
        """The limits whose places the job holds: every long job's, and for an answer from
        the model, the answers' too."""
        places = [self._limits] if self._limits is not None else []
        llm = self._resources.llm
        if llm is not None and llm.places is not None:
            route = self._router.route(job.route)
            if route is not None and uses_model(route.handler):
                places.append(llm.places)
        return places

    @staticmethod
    async def _keep_place(job: Job, limits: JobLimits) -> None:
        """Hold the job's places under the limits while it runs, however long."""
        while True:
            await limits.renew(job.id, **_subjects(job))
            await asyncio.sleep(RENEW_EVERY)

    async def _run_task(self, job: Job | FollowupsJob | TaskJob) -> Outcome:
        """A scheduled task handed over by the Lambda. Not retried on failure: a task that
        failed for one server has already delivered to the others."""
        assert isinstance(job, TaskJob)
        if self._tasks is None or self._resources.servers is None:
            log.error("task_not_runnable", reason="the worker has no task registry or SSM")
            return Outcome.FAILED
        try:
            task = self._tasks.get(job.task)
            delivery = WebhookDelivery(rest=self._rest, servers=self._resources.servers)
            await task.handler(TaskContext(delivery=delivery, detail=job.detail))
        except Exception:
            log.exception("task_failed")
            return Outcome.FAILED
        return Outcome.COMPLETED

    def _reply_for(self, job: Job | FollowupsJob) -> OriginalReply:
        if isinstance(job, FollowupsJob):
            return OriginalReply(
                api=self._rest,
                interaction=job.interaction,
                received_at=job.received_at,
                ephemeral=job.ephemeral,
                can_use_bot_token=self._bot_token,
            )
        if job.ephemeral is None:  # a version-1 job: the route's own setting
            route = self._router.route(job.route)
            ephemeral = route.ephemeral if route is not None else False
        else:
            ephemeral = job.ephemeral
        return OriginalReply(
            api=self._rest,
            interaction=job.interaction,
            received_at=job.received_at,
            ephemeral=ephemeral,
            can_use_bot_token=self._bot_token,
            # A deferred update edits the message the component is on: its id is known.
            message_id=job.interaction.message_id if job.defer is Defer.UPDATE else None,
        )

    async def _run(self, job: Job, reply: OriginalReply) -> Outcome:
        try:
            match = self._router.match(job.interaction, self._key)
        except (UnknownCommandError, OptionValueError, ExpiredCustomId) as exc:
            log.warning("job_not_runnable", reason=str(exc))
            return await tell_failure(reply, UNKNOWN_COMMAND_TEXT)
        route = match.route
        if not route.deferred:
            # A queued job for a route that answers now: not something the API would send.
            log.warning("job_not_runnable", reason=f"{route.id} is not a deferred route")
            return await tell_failure(reply, UNKNOWN_COMMAND_TEXT)
        if route.id != job.route:
            # The API chose another route than this worker's code would (a deploy between).
            log.warning("job_not_runnable", reason=f"routes to {route.id}, not {job.route}")
            return await tell_failure(reply, UNKNOWN_COMMAND_TEXT)
        ctx = JobContext(
            interaction=job.interaction,
            route=route,
            received_at=job.received_at,
            ephemeral=bool(job.ephemeral) if job.ephemeral is not None else route.ephemeral,
            _responder=reply,
            resources=self._resources,
            ids=self._ids,
        )
        try:
            result = await route.handler(ctx, *match.args, **match.kwargs)
        except (ServerError, RateLimitedError):
            log.warning("job_discord_unavailable", exc_info=True)
            return Outcome.RETRY
        except ReplyUnreachable:
            return Outcome.FAILED  # logged where it was found; nothing more can reach the user
        except Exception:
            log.exception("job_raised")
            return await tell_failure(reply, JOB_FAILED_TEXT)
        final = self._final(route, job, result)
        if final is None:
            return Outcome.COMPLETED
        try:
            # The reply is as private as the job's: a long one's follow-ups too.
            return await deliver_all(
                reply, replace(final, ephemeral=ctx.ephemeral), ephemeral=ctx.ephemeral
            )
        except Exception:
            # A reply that cannot even be sent (say, an embed holding what JSON cannot):
            # the user hears that something went wrong instead of waiting forever.
            log.exception("final_reply_failed")
            return await tell_failure(reply, JOB_FAILED_TEXT)

    def _final(self, route: Route, job: Job, result: object) -> Message | None:
        """The final reply a handler's result asks for; ``None`` when a deferred update
        already edited its message and returned nothing more."""
        if result is None:
            return None if job.defer is Defer.UPDATE else Message(content=DONE_TEXT)
        if isinstance(result, Sent):
            return None  # the handler delivered everything itself
        if isinstance(result, Message | str | Update):
            return as_message(result, ephemeral=route.ephemeral)
        log.error("job_bad_result", result_type=type(result).__name__)
        return Message(content=JOB_FAILED_TEXT)

    async def _run_followups(self, job: FollowupsJob, reply: OriginalReply) -> Outcome:
        """The rest of an answer the API gave at once: its first part is already the reply."""
        parts = [
            Message(content=part, ephemeral=job.ephemeral, allowed_mentions=job.mentions)
            for part in job.parts
        ]
        return await follow_up(reply, parts, delivered=0, ephemeral=job.ephemeral)


def _subjects(job: Job) -> dict[str, str | None]:
    return {"user_id": job.interaction.user_id, "guild_id": job.interaction.guild_id}
