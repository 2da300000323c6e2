"""/countdown: a long job run by the worker, editing its reply as it goes; its final message
has an "Again" button that runs the countdown again in that same message."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Annotated, Final

from services.commands._bot import bot
from services.core.bot import Button, ButtonStyle, JobContext, Message, Option, Reply

# Interaction webhooks share Discord's per-route limits (a handful of edits per few seconds);
# one edit every 5 s stays well clear of them while still looking alive.
PROGRESS_INTERVAL: Final = 5.0
MAX_SECONDS: Final = 3600


async def count_down(ctx: JobContext, seconds: int) -> Message:
    # Counted from when the user asked, so a job redelivered after a crash picks up the time
    # already spent instead of starting again.
    deadline = ctx.received_at + seconds
    while (left := deadline - time.time()) > 0:
        await ctx.edit(f"Counting down: {math.ceil(left)} s left")
        await asyncio.sleep(min(PROGRESS_INTERVAL, left))
    again = Button(
        "Again",
        custom_id=ctx.custom_id(countdown_again, seconds=seconds, user=ctx.user_id or ""),
        style=ButtonStyle.SECONDARY,
        emoji="🔁",
    )
    return Message(content=f"Countdown of {seconds} s finished", components=[again])


@bot.command(description="Count down, then say so", defer=True)
async def countdown(
    ctx: JobContext,
    seconds: Annotated[
        int, Option("How many seconds to count", min_value=1, max_value=MAX_SECONDS)
    ],
) -> Reply:
    return await count_down(ctx, seconds)


# Deferred: the API acknowledges the click at once (type 6) and the worker runs the countdown
# again, editing the message the button is on. Signed, so nobody can make a button for an
# hour-long countdown, or one that claims another user started it.
@bot.component("again:{seconds}:{user}", defer=True, signed=True)
async def countdown_again(ctx: JobContext, seconds: int, user: str) -> Reply | None:
    if ctx.user_id != user:
        # The message is everyone's to see: the refusal is for the one who clicked only.
        await ctx.followup(
            Message(
                content="Only the person who started this countdown can run it again.",
                ephemeral=True,
            )
        )
        return None  # the message stays as it is
    return await count_down(ctx, seconds)
