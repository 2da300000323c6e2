"""Delivering a job's reply: the final edit, the follow-ups past 2,000 characters, and
telling the user it failed; each says what became of it as an ``Outcome``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import structlog

from services.core.discord.errors import (
    DiscordHTTPError,
    RateLimitedError,
    ReplyUnreachable,
    ServerError,
)
from services.core.discord.messages import Message
from services.core.discord.reply import OriginalReply
from services.core.discord.split import split_message
from services.worker.outcomes import Outcome

log = structlog.get_logger("worker.delivery")

NOT_FOUND: Final = 404


async def deliver_all(reply: OriginalReply, message: Message, *, ephemeral: bool) -> Outcome:
    """The final reply: past 2,000 characters the first part replaces the original and
    the rest follow, in order."""
    parts = split_message(message)
    outcome = await deliver(reply, parts[0])
    if outcome is not Outcome.COMPLETED:
        return outcome
    return await follow_up(reply, parts[1:], delivered=1, ephemeral=ephemeral)


async def follow_up(
    reply: OriginalReply, parts: Sequence[Message], *, delivered: int, ephemeral: bool
) -> Outcome:
    """Post ``parts`` as follow-ups, in order, after ``delivered`` parts the user has."""
    for sent, part in enumerate(parts):
        try:
            await reply.followup(part)
        except (DiscordHTTPError, ReplyUnreachable) as exc:
            if sent == 0 and delivered == 0 and _passing(exc):
                return Outcome.RETRY  # nothing of it reached the user yet: try again
            # Not run again: that would repeat the parts the user already has.
            log.error(
                "reply_incomplete",
                parts_sent=delivered + sent,
                parts=delivered + len(parts),
                reason=str(exc),
                ephemeral=ephemeral,
            )
            return Outcome.FAILED
    return Outcome.COMPLETED


async def deliver(reply: OriginalReply, message: Message) -> Outcome:
    try:
        await reply.edit(message)
    except (ServerError, RateLimitedError) as exc:
        log.warning("final_edit_retry", status=exc.status, code=exc.code)
        return Outcome.RETRY
    except DiscordHTTPError as exc:
        # 4xx: the message is gone or the bot may not post here; a retry cannot help.
        log.error("final_edit_refused", status=exc.status, code=exc.code, reason=exc.message)
        return Outcome.FAILED
    except ReplyUnreachable:
        return Outcome.FAILED
    return Outcome.COMPLETED


async def tell_failure(reply: OriginalReply, text: str) -> Outcome:
    """Say it failed: in the reply, or, when the job was to update a component's
    message (which other people may see and use), privately, leaving it as it was."""
    if not reply.updates_message:
        outcome = await deliver(reply, Message(content=text))
        return Outcome.RETRY if outcome is Outcome.RETRY else Outcome.FAILED
    try:
        await reply.followup(Message(content=text, ephemeral=True))
    except (ServerError, RateLimitedError):
        return Outcome.RETRY
    except (DiscordHTTPError, ReplyUnreachable) as exc:
        log.error("failure_not_told", reason=str(exc))
    return Outcome.FAILED


def _passing(exc: Exception) -> bool:
    """A follow-up refusal that may pass: Discord busy, or (404) not yet done with the
    answer the follow-up belongs to."""
    if isinstance(exc, ServerError | RateLimitedError):
        return True
    return isinstance(exc, DiscordHTTPError) and exc.status == NOT_FOUND
