"""Declaring a bot's commands: a ``Registry`` and its ``@command`` decorator, options from
typed parameters, and the contexts handlers receive."""

from services.core.bot.context import CommandContext, JobContext, Reply
from services.core.bot.options import Attachment, Channel, Choice, Option, Role, User
from services.core.bot.registry import Command, Group, Registry

__all__ = [
    "Attachment",
    "Channel",
    "Choice",
    "Command",
    "CommandContext",
    "Group",
    "JobContext",
    "Option",
    "Registry",
    "Reply",
    "Role",
    "User",
]
