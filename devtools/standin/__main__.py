"""The local Discord stand-in as a process of its own (compose's `discord` service): prints
every message the bot sends.

    python -m devtools.standin        (HOST, DISCORD_STANDIN_PORT; default 0.0.0.0:8081)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from devtools.local import DEV_APPLICATION_ID, print_event


async def serve() -> None:
    from devtools.standin import DiscordStandIn

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    async with DiscordStandIn(
        application_id=os.environ.get("DISCORD_APPLICATION_ID", DEV_APPLICATION_ID),
        bot_token=os.environ.get("DISCORD_BOT_TOKEN"),
        on_event=print_event,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("DISCORD_STANDIN_PORT", "8081")),
    ) as fake:
        print(f"[discord] stand-in at {fake.url}", flush=True)
        await stopping.wait()


def main() -> int:
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
