"""A router of test-only commands: what a bot author might write, including mistakes."""

from __future__ import annotations

import asyncio

from services.core.bot import (
    Button,
    Choice,
    CommandContext,
    JobContext,
    Message,
    Reply,
    Router,
    Update,
)

router = Router()


@router.command(
    description="A deferred command whose replies only the caller sees", defer=True, ephemeral=True
)
async def secret(ctx: JobContext) -> Reply:
    return "only you can see this"


@router.command(description="An instant command with a bug")
async def broken(ctx: CommandContext) -> Reply:
    raise RuntimeError("bug in an instant command")


# A signed custom_id: the amount must not be forgeable by a client.
@router.command(description="Offer a payment")
async def offer(ctx: CommandContext) -> Reply:
    pay = Button("Pay 5", custom_id=ctx.custom_id(pay_now, user=ctx.user_id or "", amount=5))
    return Message(content="Pay?", components=[pay])


@router.component("pay:{user}:{amount}", signed=True)
async def pay_now(ctx: CommandContext, user: str, amount: int) -> Update:
    PAID.append((user, amount))
    return Update(f"Paid {amount}")


PAID: list[tuple[str, int]] = []

# 5,000 characters with a code block across the 2,000-character cuts.
LONG_REPLY = (
    "Here is the report.\n\n"
    + "\n".join(f"Line {i} of the introduction, which goes on for a while." for i in range(20))
    + "\n\n```python\n"
    + "\n".join(f"print({i})  # {'x' * 40}" for i in range(60))
    + "\n```\n\n"
    + " ".join(["closing words"] * 200)
)[:5000]


@router.command(description="A long answer from the worker", defer=True)
async def essay(ctx: JobContext) -> Reply:
    return LONG_REPLY


@router.command(description="Follow-ups, edited and deleted", defer=True)
async def notes(ctx: JobContext) -> Reply:
    first = await ctx.followup("first note")
    second = await ctx.followup("second note")
    await first.edit("first note, edited")
    await second.delete()
    await ctx.edit("working…")
    return "all notes sent"


@router.command(description="An instant command that takes too long")
async def dawdle(ctx: CommandContext) -> Reply:
    await asyncio.sleep(30)
    return "too late"


LONG_NOW = "\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(12))


@router.command(description="A long answer given at once", ephemeral=True)
async def manual(ctx: CommandContext) -> Reply:
    return LONG_NOW


@router.command(description="A handler whose own work was cancelled")
async def abandoned(ctx: CommandContext) -> Reply:
    inner = asyncio.create_task(asyncio.sleep(10))
    inner.cancel()
    await inner  # raises CancelledError: the handler's problem, not the request's
    return "unreachable"


@router.command(description="Suggests a number JSON cannot carry")
async def pick(ctx: CommandContext, n: int) -> Reply:
    return str(n)


@router.autocomplete("pick", "n")
async def huge_numbers(ctx: CommandContext, current: str) -> list[Choice]:
    return [Choice("too big", 2**70)]


@router.command(description="Private by declaration", ephemeral=True)
async def private(ctx: CommandContext) -> Reply:
    return Message(content="for you only")  # the Message itself does not say ephemeral


@router.command(description="Two buttons with one custom_id")
async def twins(ctx: CommandContext) -> Reply:
    same = ctx.custom_id(pay_now, user="1", amount=1)
    return Message(
        content="x", components=[Button("A", custom_id=same), Button("B", custom_id=same)]
    )


@router.component("vote:{choice}", defer=True)
async def vote(ctx: JobContext, choice: str) -> Reply:
    raise RuntimeError("a bug while counting votes")


@router.command(description="Answers now (not deferred)")
async def quick(ctx: CommandContext) -> Reply:
    return "quick"


@router.modal("survey", defer=True, update=True)
async def survey(ctx: JobContext) -> Reply | None:
    return None


@router.command(description="A final reply that cannot be sent", defer=True)
async def poison(ctx: JobContext) -> Reply:
    return Message(content="x", embeds=[{"timestamp": object()}])
