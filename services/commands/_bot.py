"""The router, task registry, prompt templates and model commands every command and task
module adds itself to."""

from services.core.bot import Router
from services.core.llm.prompts import Prompts
from services.core.llm.routes import ModelCommands
from services.core.tasks import TaskRegistry

bot = Router()
tasks = TaskRegistry()
prompts = Prompts()
# Model-backed commands: deferred, streamed, with Stop and Follow up (services.core.llm).
models = ModelCommands(bot)
