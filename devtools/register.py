"""Register the bot's commands with Discord (bulk overwrite), or print the JSON.

    python -m devtools.register --print           # the body Discord's bulk overwrite takes
    python -m devtools.register                   # global commands (up to an hour to appear)
    python -m devtools.register --guild 1234...   # one server, at once: use while developing

Needs DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (and DISCORD_API_URL to aim elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import aiohttp

from services.core.config import DiscordSettings
from services.core.discord.errors import DiscordHTTPError
from services.core.discord.rest import DiscordRest
from services.core.env import Env
from services.core.errors import ConfigError


async def register(
    settings: DiscordSettings, body: list[dict[str, object]], guild: str | None
) -> int:
    async with aiohttp.ClientSession() as session:
        rest = DiscordRest(
            session=session,
            api_url=settings.api_url,
            application_id=settings.application_id,
            bot_token=settings.bot_token,
        )
        try:
            stored = await rest.bulk_overwrite_commands(body, guild_id=guild)
        except DiscordHTTPError as exc:
            print(f"Discord refused the commands: {exc}", file=sys.stderr)
            if exc.errors:
                print(json.dumps(exc.errors, indent=2), file=sys.stderr)
            return 1
    where = f"server {guild}" if guild else "all servers"
    print(f"registered {len(stored)} commands for {where}: {', '.join(c['name'] for c in stored)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from services.commands import bot

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", dest="show", help="print the JSON only")
    parser.add_argument("--guild", help="register for one server only")
    args = parser.parse_args(argv)
    body = bot.to_discord()
    if args.show:
        print(json.dumps(body, indent=2))
        return 0
    try:
        settings = DiscordSettings.from_env(Env(os.environ))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.bot_token is None:
        print("configuration error: DISCORD_BOT_TOKEN is required to register", file=sys.stderr)
        return 2
    return asyncio.run(register(settings, body, args.guild))


if __name__ == "__main__":
    sys.exit(main())
