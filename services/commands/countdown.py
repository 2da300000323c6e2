"""/countdown: a long job run by the worker, editing its reply as it goes."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Annotated, Final

from services.commands._bot import bot
from services.core.bot import JobContext, Option, Reply

# Interaction webhooks share Discord's per-route limits (a handful of edits per few seconds);
# one edit every 5 s stays well clear of them while still looking alive.
PROGRESS_INTERVAL: Final = 5.0


@bot.command(description="Count down, then say so", defer=True)
async def countdown(
    ctx: JobContext,
    seconds: Annotated[int, Option("How many seconds to count", min_value=1, max_value=3600)],
) -> Reply:
    # Counted from when the user asked, so a job redelivered after a crash picks up the time
    # already spent instead of starting again.
    deadline = ctx.received_at + seconds
    while (left := deadline - time.time()) > 0:
        await ctx.edit(f"Counting down: {math.ceil(left)} s left")
        await asyncio.sleep(min(PROGRESS_INTERVAL, left))
    return f"Countdown of {seconds} s finished"
