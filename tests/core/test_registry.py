"""Declaring commands: typed parameters become Discord options, one declaration routes."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

from devtools.standin import schemas
from services.core.bot import (
    Attachment,
    Channel,
    Choice,
    CommandContext,
    JobContext,
    Option,
    Registry,
    Role,
    User,
)
from services.core.bot.errors import CommandDefinitionError, OptionValueError, UnknownCommandError
from services.core.discord.models import Permissions


def build() -> Registry:
    bot = Registry()

    @bot.command(description="Roll dice", default_member_permissions=Permissions.MANAGE_GUILD)
    async def roll(
        ctx: CommandContext,
        sides: Annotated[int, Option("Sides per die", min_value=2, max_value=100)],
        label: Annotated[str, Option("What for", max_length=50)] = "roll",
        loud: bool = False,
        scale: float | None = None,
        colour: Literal["red", "blue"] = "red",
    ) -> str:
        return f"{sides}{label}{loud}{scale}{colour}"

    @bot.command(description="Greet someone", guild_only=True)
    async def greet(
        ctx: CommandContext,
        who: Annotated[User, Option("Who to greet")],
        where: Annotated[Channel | None, Option("Where", channel_types=[0])] = None,
        role: Role | None = None,
        file: Attachment | None = None,
    ) -> str:
        return who.data.get("username", "?")

    admin = bot.group("admin", "Server administration")
    settings = admin.group("settings", "Settings")

    @settings.command(description="Show a setting", defer=True, ephemeral=True)
    async def show(
        ctx: JobContext,
        key: Annotated[str, Option("Setting", choices=[Choice("Language", "lang")])],
    ) -> str:
        return key

    @admin.command(description="Ping the admins")
    async def page(ctx: CommandContext) -> str:
        return "paged"

    return bot


def test_declarations_produce_what_discords_bulk_overwrite_accepts():
    body = build().to_discord()
    assert schemas().errors("bulk_set_application_commands", body) == []
    roll = next(c for c in body if c["name"] == "roll")
    assert roll["default_member_permissions"] == str(1 << 5)
    assert roll["options"] == [
        {
            "type": 4,
            "name": "sides",
            "description": "Sides per die",
            "required": True,
            "min_value": 2,
            "max_value": 100,
        },
        {
            "type": 3,
            "name": "label",
            "description": "What for",
            "required": False,
            "max_length": 50,
        },
        {"type": 5, "name": "loud", "description": "loud", "required": False},
        {"type": 10, "name": "scale", "description": "scale", "required": False},
        {
            "type": 3,
            "name": "colour",
            "description": "colour",
            "required": False,
            "choices": [{"name": "red", "value": "red"}, {"name": "blue", "value": "blue"}],
        },
    ]
    greet = next(c for c in body if c["name"] == "greet")
    assert [o["type"] for o in greet["options"]] == [6, 7, 8, 11]
    assert greet["options"][1]["channel_types"] == [0]
    assert greet["contexts"] == [0]
    admin = next(c for c in body if c["name"] == "admin")
    assert [(o["type"], o["name"]) for o in admin["options"]] == [(2, "settings"), (1, "page")]
    assert admin["options"][0]["options"][0]["name"] == "show"


def test_subcommands_route_and_bind_by_full_path():
    bot = build()
    data = {
        "name": "admin",
        "options": [
            {
                "type": 2,
                "name": "settings",
                "options": [
                    {
                        "type": 1,
                        "name": "show",
                        "options": [{"name": "key", "type": 3, "value": "lang"}],
                    },
                ],
            },
        ],
    }
    command, kwargs = bot.bind(data)
    assert command.path == "admin settings show"
    assert (command.deferred, command.ephemeral) == (True, True)
    assert kwargs == {"key": "lang"}
    assert bot.get("admin settings show") is command


def test_defaults_and_conversions():
    bot = build()
    _, kwargs = bot.bind(
        {
            "name": "roll",
            "options": [
                {"name": "sides", "type": 4, "value": 6},
                {"name": "scale", "type": 10, "value": 2},
            ],
        }
    )
    assert kwargs == {"sides": 6, "label": "roll", "loud": False, "scale": 2.0, "colour": "red"}
    assert isinstance(kwargs["scale"], float)


def test_resolved_objects_are_passed_to_the_handler():
    bot = build()
    _, kwargs = bot.bind(
        {
            "name": "greet",
            "options": [{"name": "who", "type": 6, "value": "42"}],
            "resolved": {"users": {"42": {"id": "42", "username": "ada"}}},
        }
    )
    assert kwargs["who"] == User(id="42", data={"id": "42", "username": "ada"})
    assert kwargs["where"] is None


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ([], "is required"),
        ([{"name": "sides", "type": 4, "value": 1}], "at least 2"),
        ([{"name": "sides", "type": 4, "value": 101}], "at most 100"),
        ([{"name": "sides", "type": 4, "value": "6"}], "expected integer"),
        ([{"name": "sides", "type": 4, "value": True}], "expected integer"),
        (
            [
                {"name": "sides", "type": 4, "value": 6},
                {"name": "colour", "type": 3, "value": "green"},
            ],
            "choices",
        ),
        (
            [{"name": "sides", "type": 4, "value": 6}, {"name": "extra", "type": 3, "value": "x"}],
            "not an option",
        ),
    ],
)
def test_options_that_do_not_fit_are_refused(options, problem):
    with pytest.raises(OptionValueError, match=problem):
        build().bind({"name": "roll", "options": options})


def test_unknown_command():
    with pytest.raises(UnknownCommandError):
        build().bind({"name": "nope"})


async def _ctx_only(ctx: CommandContext) -> str:
    return ""


def _declare(description: str = "ok", name: str | None = None):
    bot = Registry()
    return bot, bot.command(description=description, name=name)


def test_bad_declarations_fail_at_import_time():
    bot, deco = _declare(name="Bad Name")
    with pytest.raises(CommandDefinitionError, match="lowercase"):
        deco(_ctx_only)
    with pytest.raises(CommandDefinitionError, match="description"):
        _declare(description="")[1](_ctx_only)
    with pytest.raises(CommandDefinitionError, match="description"):
        _declare(description="x" * 101)[1](_ctx_only)

    async def untyped(ctx, n):
        return ""

    with pytest.raises(CommandDefinitionError, match="annotation"):
        _declare()[1](untyped)

    async def wrong_order(
        ctx: CommandContext, a: int = 1, b: int | None = None, c: str = ""
    ) -> str:
        return ""

    _declare()[1](wrong_order)  # all optional: fine

    async def required_after_optional(ctx: CommandContext, a: int = 1, *, b: str) -> str:
        return ""

    with pytest.raises(CommandDefinitionError, match="follows an optional"):
        _declare()[1](required_after_optional)

    async def unsupported(ctx: CommandContext, when: bytes) -> str:
        return ""

    with pytest.raises(CommandDefinitionError, match="unsupported"):
        _declare()[1](unsupported)

    bot = Registry()
    bot.command(description="first")(_ctx_only)
    with pytest.raises(CommandDefinitionError, match="twice"):
        bot.command(description="again")(_ctx_only)

    group = Registry().group("a", "A").group("b", "B")
    with pytest.raises(CommandDefinitionError, match="nested"):
        group.group("c", "C")
