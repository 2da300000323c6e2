"""``python -m devtools.dlq list|redrive [--id MSG]``: the dead-letter tools against the bot
``make run`` is running, with its local AWS and its keys (``.local/dev.json``), so nothing
needs exporting. Deployed, run ``python -m services.worker.dlq`` with the worker's settings.
"""

from __future__ import annotations

import os
import sys

from devtools import aws
from devtools.local import dev_identity
from services.worker import dlq

LOCAL_QUEUE = "discord-bot-jobs"


def main(argv: list[str] | None = None) -> int:
    endpoint = f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '4566')}"
    try:
        aws.wait_http(endpoint, timeout=2)
    except TimeoutError:
        print(f"no local AWS at {endpoint}: start the bot with `make run` first", file=sys.stderr)
        return 2
    identity = dev_identity()
    # The AWS clients take their credentials from this process's environment.
    os.environ.update(aws.LOCAL_CREDENTIALS)
    env = aws.process_env(
        endpoint,
        JOBS_QUEUE_URL=aws.client("sqs", endpoint).get_queue_url(QueueName=LOCAL_QUEUE)["QueueUrl"],
        DISCORD_PUBLIC_KEY=identity["public_key"],
        DISCORD_APPLICATION_ID=identity["application_id"],
        CUSTOM_ID_SECRET=identity["custom_id_secret"],
        JOB_SIGNING_KEY=identity["job_signing_key"],
    )
    return dlq.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
