"""The scheduler Lambda's stand-in as a process (compose's `scheduler` service): runs the
same handler for each event EventBridge routes to SCHEDULER_QUEUE_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from devtools.local import run_scheduler


async def serve() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await run_scheduler(os.environ, os.environ["SCHEDULER_QUEUE_URL"], stopping)


def main() -> int:
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
