"""The daily reminder: at 09:00 UTC, a message to every server with a webhook configured.

A server's own text comes from its settings (``reminder``); one server's failure does not
stop the others, and the failures are reported together at the end.
"""

from __future__ import annotations

from typing import Final

import structlog

from services.commands._bot import tasks
from services.core.errors import DeliveryFailed
from services.core.tasks import TaskContext
from services.core.webhooks import describe_failure

log = structlog.get_logger("tasks.daily_reminder")

DEFAULT_TEXT: Final = "Daily reminder: have a good day!"


@tasks.task(description="Post the daily reminder to every server with a webhook")
async def daily_reminder(ctx: TaskContext) -> None:
    failures: dict[str, str] = {}
    servers = await ctx.delivery.servers.servers_with_webhooks()
    for guild_id in servers:
        try:
            settings = await ctx.delivery.servers.settings(guild_id)
            text = str(settings.get("reminder") or DEFAULT_TEXT)
            await ctx.delivery.send(guild_id, text)
        except Exception as exc:
            failures[guild_id] = describe_failure(exc)
            log.warning("reminder_failed", guild_id=guild_id, reason=failures[guild_id])
    log.info("reminders_sent", servers=len(servers), failed=len(failures))
    if failures:
        raise DeliveryFailed(failures)
