"""The registries every command and task module adds itself to."""

from services.core.bot import Registry
from services.core.tasks import TaskRegistry

bot = Registry()
tasks = TaskRegistry()
