"""Whether a long job may start: the limits on long jobs (``services.core.limits``) and, for
the model's commands, the daily token budgets and the limit on answers in flight
(``services.core.llm``). The API asks before it queues a job and gives the places back if
the queue refuses it.

A check that cannot be made in time lets the job go (a limit that cannot be checked must not
cost the user the command); a check that refuses answers the user privately.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Final

from services.core.bot.routes import Route
from services.core.discord.interaction import Interaction
from services.core.errors import LimitsUnavailable
from services.core.limits import JobLimits, Refused
from services.core.llm.routes import NOT_CONFIGURED_TEXT, uses_model
from services.core.llm.runtime import Llm

# Each check's share of Discord's 3 s: past this it goes ahead unchecked, and the enqueue
# still has its own budget.
LIMITS_TIMEOUT: Final = 0.5


@dataclass(frozen=True, slots=True)
class Taken:
    """The places a queued job holds, to give back if the queue refuses it."""

    job: bool = False
    answer: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str
    reason: str


class Admission:
    def __init__(self, *, limits: JobLimits | None, llm: Llm | None) -> None:
        self._limits = limits
        self._llm = llm

    async def admit(
        self, interaction: Interaction, route: Route, fields: dict[str, Any]
    ) -> Taken | Refusal:
        model = uses_model(route.handler)
        if model and self._llm is None:
            return Refusal(NOT_CONFIGURED_TEXT, "no_model")
        budget = self._llm.budget if model and self._llm is not None else None
        over, job = await asyncio.gather(
            self._over_budget(budget, interaction, fields),
            self._take(self._limits, interaction, fields, "limits"),
        )
        if isinstance(job, Refused) or over is not None:
            if job is True:
                await self._give_back(self._limits, interaction)
            refused = over or job
            assert isinstance(refused, Refused)
            return Refusal(refused.text, refused.reason)
        places = self._llm.places if model and self._llm is not None else None
        answer = await self._take(places, interaction, fields, "answer_limits")
        if isinstance(answer, Refused):
            if job:
                await self._give_back(self._limits, interaction)
            return Refusal(answer.text, answer.reason)
        return Taken(job=job, answer=answer)

    async def give_back(self, interaction: Interaction, taken: Taken) -> None:
        if taken.job:
            await self._give_back(self._limits, interaction)
        if taken.answer and self._llm is not None:
            await self._give_back(self._llm.places, interaction)

    @staticmethod
    async def _over_budget(
        budget: Any, interaction: Interaction, fields: dict[str, Any]
    ) -> Refused | None:
        if budget is None:
            return None
        try:
            async with asyncio.timeout(LIMITS_TIMEOUT):
                refused: Refused | None = await budget.check(
                    user_id=interaction.user_id, guild_id=interaction.guild_id
                )
        except (LimitsUnavailable, TimeoutError) as exc:
            fields["budget"] = f"unchecked: {getattr(exc, 'reason', 'timed out')}"
            return None
        return refused

    @staticmethod
    async def _take(
        limits: JobLimits | None, interaction: Interaction, fields: dict[str, Any], name: str
    ) -> Refused | bool:
        """Take a place: the refusal, or whether a place was taken."""
        if limits is None:
            return False
        try:
            refused = await limits.take(
                interaction.id,
                user_id=interaction.user_id,
                guild_id=interaction.guild_id,
                timeout=LIMITS_TIMEOUT,
            )
        except LimitsUnavailable as exc:
            fields[name] = f"unchecked: {exc.reason}"
            return False
        return refused if refused is not None else True

    @staticmethod
    async def _give_back(limits: JobLimits | None, interaction: Interaction) -> None:
        if limits is None:
            return
        # Within what is left of the 3 s; else the place lapses with its lease.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LIMITS_TIMEOUT):
                await limits.give_back(
                    interaction.id, user_id=interaction.user_id, guild_id=interaction.guild_id
                )
