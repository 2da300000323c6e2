"""Which bot a process serves: the package a bot author edits (``services.commands``),
imported when a service starts, so the core, the API, the worker and the scheduler never
import the bot's code (nor each other) at module level."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Final

from services.core.bot.router import Router
from services.core.config import DiscordSettings
from services.core.errors import ConfigError
from services.core.tasks import TaskRegistry

BOT_PACKAGE: Final = "services.commands"


@dataclass(frozen=True, slots=True)
class Bot:
    router: Router
    tasks: TaskRegistry


def load_bot(package: str = BOT_PACKAGE) -> Bot:
    """The ``bot`` router and ``tasks`` registry that ``package`` declares."""
    module = importlib.import_module(package)
    router, tasks = getattr(module, "bot", None), getattr(module, "tasks", None)
    if not isinstance(router, Router) or not isinstance(tasks, TaskRegistry):
        raise ConfigError(package, "must define `bot` (a Router) and `tasks` (a TaskRegistry)")
    return Bot(router, tasks)


def check_custom_id_key(router: Router, discord: DiscordSettings) -> None:
    """A bot with signed custom_ids cannot start without the key that signs them."""
    if router.signs_custom_ids and discord.custom_id_secret is None:
        raise ConfigError("CUSTOM_ID_SECRET", "is required: this bot declares signed custom_ids")
