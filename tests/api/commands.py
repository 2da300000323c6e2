"""A registry of test-only commands: what a bot author might write, including mistakes."""

from __future__ import annotations

from services.core.bot import CommandContext, JobContext, Registry, Reply

registry = Registry()


@registry.command(
    description="A deferred command whose replies only the caller sees", defer=True, ephemeral=True
)
async def secret(ctx: JobContext) -> Reply:
    return "only you can see this"


@registry.command(description="An instant command with a bug")
async def broken(ctx: CommandContext) -> Reply:
    raise RuntimeError("bug in an instant command")
