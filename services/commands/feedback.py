"""/feedback: opens a form (a modal); what the user submits is quoted back to them only."""

from __future__ import annotations

from typing import Final

from services.commands._bot import bot
from services.core.bot import (
    MENTION_NONE,
    CommandContext,
    Message,
    Modal,
    Reply,
    TextInput,
    TextInputStyle,
)

MAX_FEEDBACK: Final = 1000


@bot.command(description="Tell the bot's authors what you think")
async def feedback(ctx: CommandContext) -> Modal:
    field = TextInput(
        "text",
        "What would you like to tell us?",
        style=TextInputStyle.PARAGRAPH,
        placeholder="Ideas, problems, praise…",
        min_length=1,
        max_length=MAX_FEEDBACK,
    )
    return Modal(custom_id=ctx.custom_id(feedback_sent), title="Feedback", fields=[field])


@bot.modal("feedback", ephemeral=True)
async def feedback_sent(ctx: CommandContext) -> Reply:
    text = str(ctx.fields.get("text") or "").strip()[:MAX_FEEDBACK]
    if not text:
        return Message(content="Your feedback was empty, so nothing was sent.", ephemeral=True)
    quoted = "\n".join(f"> {line}" for line in text.splitlines())
    # The user's own words, quoted back: whatever they contain, nobody gets pinged.
    return Message(
        content=f"Thanks for your feedback! You wrote:\n{quoted}",
        ephemeral=True,
        allowed_mentions=MENTION_NONE,
    )
