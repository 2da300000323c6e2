"""Declaring a bot: one ``Router`` for slash commands, context menus, components, modals and
autocomplete; options from typed parameters; the contexts handlers receive; what they may
answer with."""

from services.core.bot.commands import Command, Group
from services.core.bot.context import CommandContext, Followup, JobContext, Reply, Update
from services.core.bot.options import Choice, Option
from services.core.bot.resolved import Attachment, Channel, Role, TargetMessage, User
from services.core.bot.router import Router
from services.core.discord.components import (
    ActionRow,
    Button,
    ButtonStyle,
    ChannelSelect,
    LinkButton,
    MentionableSelect,
    Modal,
    RoleSelect,
    SelectOption,
    StringSelect,
    TextInput,
    TextInputStyle,
    UserSelect,
)
from services.core.discord.messages import (
    MENTION_NONE,
    MENTION_USERS,
    Embed,
    EmbedField,
    File,
    Message,
)

__all__ = [
    "MENTION_NONE",
    "MENTION_USERS",
    "ActionRow",
    "Attachment",
    "Button",
    "ButtonStyle",
    "Channel",
    "ChannelSelect",
    "Choice",
    "Command",
    "CommandContext",
    "Embed",
    "EmbedField",
    "File",
    "Followup",
    "Group",
    "JobContext",
    "LinkButton",
    "MentionableSelect",
    "Message",
    "Modal",
    "Option",
    "Reply",
    "Role",
    "RoleSelect",
    "Router",
    "SelectOption",
    "StringSelect",
    "TargetMessage",
    "TextInput",
    "TextInputStyle",
    "Update",
    "User",
    "UserSelect",
]
