"""custom_id state: templates with typed fields, versions, signatures, Discord's 100 characters."""

from __future__ import annotations

import pytest

from services.core.bot import CommandContext, Router
from services.core.bot.custom_ids import MAC_CHARS, Template
from services.core.bot.errors import CommandDefinitionError, ExpiredCustomId

KEY = b"k" * 32


async def pay(ctx: CommandContext, user: int, amount: float, note: str, urgent: bool) -> None:
    return None


def template(*, signed: bool = False) -> Template:
    return Template.declare("pay:{user}:{amount}:{note}:{urgent}", pay, version=1, signed=signed)


@pytest.mark.parametrize(
    "values",
    [
        {"user": 900000000000000003, "amount": 12.5, "note": "lunch", "urgent": True},
        {"user": -1, "amount": 0, "note": "", "urgent": False},
        # The separator and the escape character inside a string survive the round trip.
        {"user": 1, "amount": 1e-3, "note": "a:b%3A%25:c", "urgent": False},
        {"user": 2, "amount": 3.0, "note": "ünï 🎲", "urgent": True},
    ],
)
@pytest.mark.parametrize("signed", [False, True])
def test_values_come_back_typed(values, signed):
    t = template(signed=signed)
    encoded = t.encode(values, KEY)
    assert encoded.startswith("pay:1:")
    assert len(encoded) <= 100
    decoded = t.decode(encoded, KEY)
    assert decoded == {**values, "amount": float(values["amount"])}
    assert [type(v) for v in decoded.values()] == [int, float, str, bool]


def test_a_tampered_signed_id_is_refused():
    t = template(signed=True)
    encoded = t.encode({"user": 5, "amount": 10.0, "note": "x", "urgent": False}, KEY)
    head, mac = encoded.rsplit(":", 1)
    forged = [
        encoded.replace(":10.0:", ":1000.0:"),  # the amount changed
        head.replace("pay:1:5", "pay:1:6") + ":" + mac,  # another user
        head + ":" + ("A" * MAC_CHARS),  # a made-up signature
        head,  # no signature at all
    ]
    for candidate in forged:
        with pytest.raises(ExpiredCustomId):
            t.decode(candidate, KEY)
    with pytest.raises(ExpiredCustomId, match="signature"):
        t.decode(encoded, b"another key that is also 32 bytes!")


@pytest.mark.parametrize(
    "bad",
    [
        "pay:2:5:1.0:x:1",  # another version of the template
        "pay:1:5:1.0:x",  # a field missing
        "pay:1:5:1.0:x:1:extra",  # one too many
        "pay:1:five:1.0:x:1",  # not an integer
        "pay:1:5:1.0:x:yes",  # not a bool
        "pay:1:5:1.0:%zz:1",  # a broken escape
        "pay:1:5:nan-ish:x:1",
    ],
)
def test_ids_that_do_not_fit_the_template_are_refused(bad):
    with pytest.raises(ExpiredCustomId):
        template().decode(bad, None)


def test_an_id_longer_than_discord_allows_is_refused_where_it_is_built():
    t = template()
    with pytest.raises(ValueError, match="100"):
        t.encode({"user": 1, "amount": 1.0, "note": "x" * 90, "urgent": True}, None)


def test_declarations_that_cannot_work_fail_at_import():
    async def two(ctx: CommandContext, a: int, b: str) -> None:
        return None

    async def untyped(ctx: CommandContext, a) -> None:
        return None

    async def listy(ctx: CommandContext, a: list[int]) -> None:
        return None

    cases = [
        ("two:{a}", two, "parameters"),  # b is not in the template
        ("two:{a}:{b}:{c}", two, "parameters"),
        ("two:{a}:x{b}", two, "only {field}"),
        ("two:{a}:{a}", two, "repeats"),
        ("bad name:{a}:{b}", two, "name"),
        ("", two, "name"),
        ("x:{a}", untyped, "typed"),
        ("x:{a}", listy, "typed"),
        ("n" * 40 + ":{a}:{b}", two, None),  # fits: 40 + version + fields
    ]
    for text, handler, problem in cases:
        if problem is None:
            Template.declare(text, handler, version=1, signed=True)
            continue
        with pytest.raises(CommandDefinitionError, match=problem):
            Template.declare(text, handler, version=1, signed=False)


def test_a_router_with_signed_templates_says_so_and_builds_ids_by_handler():
    bot = Router()

    @bot.component("plain:{n}")
    async def plain(ctx: CommandContext, n: int) -> None:
        return None

    assert not bot.signs_custom_ids

    @bot.component("secret:{n}", signed=True)
    async def secret(ctx: CommandContext, n: int) -> None:
        return None

    assert bot.signs_custom_ids
    ids = bot.custom_ids(KEY)
    assert ids.encode(plain, n=3) == "plain:1:3"
    assert ids.encode(secret, n=3).startswith("secret:1:3:")
    with pytest.raises(LookupError):
        ids.encode(test_values_come_back_typed, n=1)
    with pytest.raises(TypeError, match="takes"):
        ids.encode(plain, m=1)


@pytest.mark.parametrize(
    "bad", ["pay:1:5\n:1.0:x:1", "pay:1:5:nan:x:1", "pay:1:5:inf:x:1", "pay:1:5:1_0:x:1"]
)
def test_what_python_would_parse_leniently_is_refused(bad):
    with pytest.raises(ExpiredCustomId):
        template().decode(bad, None)
    with pytest.raises(ValueError, match="finite"):
        template().encode({"user": 1, "amount": float("nan"), "note": "", "urgent": True}, None)


def test_a_signed_components_id_does_not_pass_as_a_modals():
    bot = Router()

    @bot.component("same:{n}", signed=True)
    async def as_button(ctx: CommandContext, n: int) -> None:
        return None

    @bot.modal("same:{n}", signed=True)
    async def as_form(ctx: CommandContext, n: int) -> None:
        return None

    ids = bot.custom_ids(KEY)
    button_id = ids.encode(as_button, n=5)
    form_id = ids.encode(as_form, n=5)
    assert button_id != form_id  # same name and value, another signature


def test_a_bare_name_is_refused_saying_so_not_as_another_version():
    with pytest.raises(ExpiredCustomId, match="name alone"):
        template().decode("pay", None)
    with pytest.raises(ExpiredCustomId, match="another version"):
        template().decode("pay:2:5:1.0:x:1", None)
