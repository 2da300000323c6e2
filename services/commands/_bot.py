"""The router and task registry every command and task module adds itself to."""

from services.core.bot import Router
from services.core.tasks import TaskRegistry

bot = Router()
tasks = TaskRegistry()
