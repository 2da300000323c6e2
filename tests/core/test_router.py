"""The router: typed parameters become Discord options; one declaration per route, for every
interaction kind; what Discord would refuse fails at declaration."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

from devtools import interactions
from devtools.standin import schemas
from services.core.bot import (
    Attachment,
    Channel,
    Choice,
    CommandContext,
    JobContext,
    Modal,
    Option,
    Role,
    Router,
    TargetMessage,
    TextInput,
    User,
)
from services.core.bot.errors import (
    CommandDefinitionError,
    ExpiredCustomId,
    OptionValueError,
    UnknownCommandError,
)
from services.core.bot.routes import Defer, Route, RouteKind, check_handler
from services.core.discord.interaction import Interaction
from services.core.discord.models import Permissions
from tests.conftest import APPLICATION_ID


def build() -> Router:
    bot = Router()

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


def _interaction(data, kind: int = 2, **extra) -> Interaction:
    payload = {**interactions.command(APPLICATION_ID, "x"), "type": kind, "data": data, **extra}
    return Interaction.from_payload(payload)


def bind(bot: Router, data) -> tuple[Route, dict]:
    match = bot.match(_interaction(data))
    return match.route, match.kwargs


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
    route, kwargs = bind(bot, data)
    assert route.id == "command:admin settings show"
    assert (route.deferred, route.ephemeral) == (True, True)
    assert kwargs == {"key": "lang"}
    assert bot.get("admin settings show").route is route


def test_defaults_and_conversions():
    bot = build()
    _, kwargs = bind(
        bot,
        {
            "name": "roll",
            "options": [
                {"name": "sides", "type": 4, "value": 6},
                {"name": "scale", "type": 10, "value": 2},
            ],
        },
    )
    assert kwargs == {"sides": 6, "label": "roll", "loud": False, "scale": 2.0, "colour": "red"}
    assert isinstance(kwargs["scale"], float)


def test_resolved_objects_are_passed_to_the_handler():
    bot = build()
    _, kwargs = bind(
        bot,
        {
            "name": "greet",
            "options": [{"name": "who", "type": 6, "value": "42"}],
            "resolved": {"users": {"42": {"id": "42", "username": "ada"}}},
        },
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
        bind(build(), {"name": "roll", "options": options})


def test_unknown_command():
    with pytest.raises(UnknownCommandError):
        bind(build(), {"name": "nope"})


async def _ctx_only(ctx: CommandContext) -> str:
    return ""


def _declare(description: str = "ok", name: str | None = None):
    bot = Router()
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

    bot = Router()
    bot.command(description="first")(_ctx_only)
    with pytest.raises(CommandDefinitionError, match="twice"):
        bot.command(description="again")(_ctx_only)

    group = Router().group("a", "A").group("b", "B")
    with pytest.raises(CommandDefinitionError, match="nested"):
        group.group("c", "C")


def kinds() -> Router:
    """One route of every kind, as a bot author would declare them."""
    bot = Router()

    @bot.command(description="Is it alive?")
    async def ping(ctx: CommandContext) -> str:
        return "Pong!"

    @bot.user_command(name="ping", ephemeral=True)
    async def ping_user(ctx: CommandContext, user: User) -> str:
        return f"pinged {user.name}"

    @bot.message_command(name="Quote it", defer=True)
    async def quote(ctx: JobContext, message: TargetMessage) -> str:
        return message.content

    @bot.component("vote:{choice}:{weight}", defer=True)
    async def vote(ctx: JobContext, choice: str, weight: int) -> str:
        return choice

    @bot.modal("form:{topic}")
    async def form(ctx: CommandContext, topic: str) -> str:
        return topic

    @bot.command(description="Look something up")
    async def find(ctx: CommandContext, term: str, page: int = 1) -> str:
        return term

    @bot.autocomplete("find", "term")
    async def terms(ctx: CommandContext, current: str) -> list[str]:
        return [current]

    return bot


def test_each_kind_routes_to_its_own_table():
    bot = kinds()
    # A user context-menu command that shares a slash command's name is not that command.
    target = interactions.user("900000000000000009", "ada")
    menu = bot.match(
        Interaction.from_payload(interactions.user_command(APPLICATION_ID, "ping", target=target))
    )
    assert menu.route.id == "user:ping"
    assert menu.args[0].name == "ada"
    assert menu.route.ephemeral
    slash = bot.match(Interaction.from_payload(interactions.command(APPLICATION_ID, "ping")))
    assert slash.route.id == "command:ping"

    message = interactions.channel_message("to be quoted")
    quoted = bot.match(
        Interaction.from_payload(
            interactions.message_command(APPLICATION_ID, "Quote it", target=message)
        )
    )
    assert (quoted.route.id, quoted.route.defer) == ("message:Quote it", Defer.REPLY)
    assert quoted.args[0].content == "to be quoted"

    click = bot.match(Interaction.from_payload(interactions.click(APPLICATION_ID, "vote:1:yes:3")))
    assert (click.route.id, click.route.defer, click.kwargs) == (
        "component:vote",
        Defer.UPDATE,
        {"choice": "yes", "weight": 3},
    )
    submitted = interactions.modal_submit(APPLICATION_ID, "form:1:bugs", {"text": "hi"})
    assert bot.match(Interaction.from_payload(submitted)).kwargs == {"topic": "bugs"}

    typing = interactions.autocomplete(
        APPLICATION_ID,
        "find",
        [{"name": "page", "type": 4, "value": 2}, {"name": "term", "value": "ab"}],
    )
    match = bot.match(Interaction.from_payload(typing))
    assert (match.route.id, match.args) == ("autocomplete:find term", ("ab",))


def test_what_no_route_accepts_is_refused_with_the_right_error():
    bot = kinds()
    with pytest.raises(UnknownCommandError):
        bot.match(
            Interaction.from_payload(
                interactions.user_command(APPLICATION_ID, "Quote it", target=interactions.user())
            )
        )
    for custom_id in ("nothing:1", "vote:2:yes:3", "vote:1:yes:lots", "", "vote"):
        with pytest.raises(ExpiredCustomId):
            bot.match(Interaction.from_payload(interactions.click(APPLICATION_ID, custom_id)))
    with pytest.raises(ExpiredCustomId):
        bot.match(
            Interaction.from_payload(interactions.modal_submit(APPLICATION_ID, "vote:1:a:1", {}))
        )
    typing_page = interactions.autocomplete(APPLICATION_ID, "find", [{"name": "page", "value": 1}])
    with pytest.raises(UnknownCommandError):
        bot.match(Interaction.from_payload(typing_page))


def test_registration_has_context_menus_and_autocomplete_flags():
    body = kinds().to_discord()
    assert schemas().errors("bulk_set_application_commands", body) == []
    by_key = {(c["type"], c["name"]): c for c in body}
    assert set(by_key) == {(1, "ping"), (1, "find"), (2, "ping"), (3, "Quote it")}
    assert "description" not in by_key[2, "ping"]
    assert "options" not in by_key[3, "Quote it"]
    term, page = by_key[1, "find"]["options"]
    assert term.get("autocomplete") is True
    assert "autocomplete" not in page


async def _modal_opener(ctx: CommandContext) -> Modal:
    return Modal("m", "Title", [TextInput("a", "A")])


async def _either(ctx: CommandContext) -> Modal | str:
    return "x"


async def _one_target(ctx: CommandContext, target: User) -> str:
    return ""


async def _current(ctx: CommandContext, current: str) -> list[str]:
    return []


def test_what_discord_refuses_after_a_deferral_fails_at_declaration():
    bot = kinds()
    with pytest.raises(CommandDefinitionError, match="autocomplete cannot be deferred"):
        bot.autocomplete("find", "term", defer=True)(_current)
    with pytest.raises(CommandDefinitionError, match="opens a modal"):
        Router().command(description="x", defer=True)(_modal_opener)
    with pytest.raises(CommandDefinitionError, match="opens a modal"):
        Router().command(description="x", defer=True, name="y")(_either)
    with pytest.raises(CommandDefinitionError, match="opens a modal"):
        Router().user_command(name="Open", defer=True)(_modal_target)
    with pytest.raises(CommandDefinitionError, match="modal from a modal"):
        Router().modal("m")(_modal_opener)
    # Instant, a modal is a fine first response.
    Router().command(description="x")(_modal_opener)
    Router().component("open")(_modal_opener)


async def _modal_target(ctx: CommandContext, target: User) -> Modal:
    return Modal("m", "Title", [TextInput("a", "A")])


def test_declarations_discord_would_refuse_fail_at_declaration():
    bot = kinds()
    with pytest.raises(CommandDefinitionError, match="1-32"):
        bot.user_command(name="x" * 33)(_one_target)
    with pytest.raises(CommandDefinitionError, match="1-32"):
        bot.user_command(name=" padded")(_one_target)
    with pytest.raises(CommandDefinitionError, match="twice"):
        bot.user_command(name="ping")(_one_target)
    with pytest.raises(CommandDefinitionError, match="1 more parameter"):
        bot.message_command(name="No target")(_ctx_only)
    menus = Router()
    for n in range(15):
        menus.message_command(name=f"m{n}")(_one_target)
    with pytest.raises(CommandDefinitionError, match="more than 15"):
        menus.message_command(name="m15")(_one_target)
    with pytest.raises(CommandDefinitionError, match="has no option"):
        bot.autocomplete("find", "nothing")(_current)
    with pytest.raises(CommandDefinitionError, match="has no option"):
        bot.autocomplete("ping", "x")(_current)
    with pytest.raises(CommandDefinitionError, match="two autocompleters"):
        bot.autocomplete("find", "term")(_current)
    with pytest.raises(UnknownCommandError):
        bot.autocomplete("missing", "term")(_current)
    with pytest.raises(CommandDefinitionError, match="declared twice"):
        bot.component("vote:{choice}:{weight}")(_vote_again)
    with pytest.raises(CommandDefinitionError, match="only components and modals"):
        check_handler(RouteKind.COMMAND, _ctx_only, Defer.UPDATE)


async def _vote_again(ctx: CommandContext, choice: str, weight: int) -> None:
    return None


def test_choices_and_autocomplete_cannot_share_an_option():
    bot = build()
    with pytest.raises(CommandDefinitionError, match="without fixed choices"):
        bot.autocomplete("roll", "colour")(_current)
    with pytest.raises(CommandDefinitionError, match="string, integer or number"):
        bot.autocomplete("roll", "loud")(_current)


def _not_async(ctx: CommandContext) -> str:
    return "x"


async def _wants_job(ctx: JobContext) -> str:
    return "x"


async def _wants_command(ctx: CommandContext) -> str:
    return "x"


def test_handlers_that_cannot_run_where_they_are_declared_fail_at_declaration():
    with pytest.raises(CommandDefinitionError, match="async def"):
        Router().command(description="x")(_not_async)
    with pytest.raises(CommandDefinitionError, match="async def"):
        Router().component("plain")(_not_async)
    with pytest.raises(CommandDefinitionError, match="runs now, in the API"):
        Router().command(description="x")(_wants_job)
    with pytest.raises(CommandDefinitionError, match="runs in the worker"):
        Router().command(description="x", defer=True)(_wants_command)
    Router().command(description="x", defer=True)(_wants_job)
    Router().command(description="x")(_wants_command)


def test_options_lengths_are_checked_like_discords():
    bot = Router()

    @bot.command(description="x")
    async def note(
        ctx: CommandContext, text: Annotated[str, Option("t", min_length=2, max_length=4)]
    ) -> str:
        return text

    for value, problem in (("a", "at least 2"), ("abcde", "at most 4")):
        with pytest.raises(OptionValueError, match=problem):
            bind(bot, {"name": "note", "options": [{"name": "text", "type": 3, "value": value}]})
    assert bind(bot, {"name": "note", "options": [{"name": "text", "type": 3, "value": "abc"}]})[
        1
    ] == {"text": "abc"}


def test_a_message_with_two_components_of_one_custom_id_is_refused_where_built():
    from services.core.bot import Button, LinkButton, Message
    from services.core.discord.errors import InvalidComponent

    with pytest.raises(InvalidComponent, match="share a custom_id"):
        Message(
            content="x", components=[Button("A", custom_id="a:1"), Button("B", custom_id="a:1")]
        )
    Message(
        content="x",
        components=[
            LinkButton("A", url="https://a.example"),
            LinkButton("B", url="https://a.example"),
        ],
    )
