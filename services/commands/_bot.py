"""The registry every command module adds itself to."""

from services.core.bot import Registry

bot = Registry()
