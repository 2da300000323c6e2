"""The bot's own commands and scheduled tasks: one module each. Add a module here and import
it below.

Instant commands run in the API and must answer within Discord's 3 seconds; give anything
slower ``defer=True`` and it runs in the worker instead.
"""

from services.commands import countdown, daily_reminder, notify, ping, server_config
from services.commands._bot import bot, tasks

__all__ = ["bot", "countdown", "daily_reminder", "notify", "ping", "server_config", "tasks"]
