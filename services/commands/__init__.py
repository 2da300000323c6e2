"""The bot's own commands: one module per command. Add a module here and import it below.

Instant commands run in the API and must answer within Discord's 3 seconds; give anything
slower ``defer=True`` and it runs in the worker instead.
"""

from services.commands import countdown, ping
from services.commands._bot import bot

__all__ = ["bot", "countdown", "ping"]
