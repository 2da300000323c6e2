"""/roll: answered at once in the API, with a button that rolls again in the same message."""

from __future__ import annotations

import random
from typing import Annotated, Final

from services.commands._bot import bot
from services.core.bot import Button, CommandContext, Message, Option, Reply, Update

MIN_SIDES: Final = 2
MAX_SIDES: Final = 100


def rolled(ctx: CommandContext, sides: int) -> Message:
    again = Button("Roll again", custom_id=ctx.custom_id(roll_again, sides=sides), emoji="🎲")
    return Message(
        content=f"🎲 You rolled **{random.randint(1, sides)}** on a d{sides}.", components=[again]
    )


@bot.command(description="Roll a die")
async def roll(
    ctx: CommandContext,
    sides: Annotated[int, Option("Sides on the die", min_value=MIN_SIDES, max_value=MAX_SIDES)] = 6,
) -> Reply:
    return rolled(ctx, sides)


@bot.component("roll:{sides}")
async def roll_again(ctx: CommandContext, sides: int) -> Update | Reply:
    # The id is not signed: a crafted one could carry any number, so check it as /roll does.
    if not MIN_SIDES <= sides <= MAX_SIDES:
        return Message(content="That die doesn't exist.", ephemeral=True)
    return Update(rolled(ctx, sides))
