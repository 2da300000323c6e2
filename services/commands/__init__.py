"""The bot's own commands, components, modals, context menus and scheduled tasks: one module
each. Add a module here and import it below.

Routes run in the API by default and must answer within Discord's 3 seconds; give anything
slower ``defer=True`` and it runs in the worker instead. Commands answered by a language
model are declared with ``models.command`` (see ``ask``); their prompts live in ``prompts``.
"""

from services.commands import (
    ask,
    command_help,
    countdown,
    daily_reminder,
    feedback,
    notify,
    ping,
    roll,
    server_config,
    summarize,
    user_info,
    word_count,
)
from services.commands._bot import bot, tasks

__all__ = [
    "ask",
    "bot",
    "command_help",
    "countdown",
    "daily_reminder",
    "feedback",
    "notify",
    "ping",
    "roll",
    "server_config",
    "summarize",
    "tasks",
    "user_info",
    "word_count",
]
