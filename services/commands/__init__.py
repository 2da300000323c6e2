"""The bot's own commands, components, modals, context menus and scheduled tasks: one module
each. Add a module here and import it below.

Routes run in the API by default and must answer within Discord's 3 seconds; give anything
slower ``defer=True`` and it runs in the worker instead.
"""

from services.commands import (
    command_help,
    countdown,
    daily_reminder,
    feedback,
    notify,
    ping,
    roll,
    server_config,
    user_info,
    word_count,
)
from services.commands._bot import bot, tasks

__all__ = [
    "bot",
    "command_help",
    "countdown",
    "daily_reminder",
    "feedback",
    "notify",
    "ping",
    "roll",
    "server_config",
    "tasks",
    "user_info",
    "word_count",
]
