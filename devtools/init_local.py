"""compose's one-shot `init`: the queues, table, event bus and parameters the services
expect, on the local AWS endpoint, with webhooks on the Discord stand-in.

    python -m devtools.init_local      (AWS_ENDPOINT_URL, DISCORD_API_URL, SSM_PREFIX)
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

from devtools import aws
from devtools.interactions import DEV_CHANNEL_ID, DEV_GUILD_ID
from devtools.standin.guard import HEADERS

QUEUE = "discord-bot-jobs"
LIMITS = "discord-bot-limits"
ANSWERS = "discord-bot-answers"
BUS = "discord-bot-events"
SCHEDULER_QUEUE = "discord-bot-scheduler"


def standin_webhook(api_url: str, channel_id: str) -> str:
    base = api_url.rsplit("/api/", 1)[0]
    request = urllib.request.Request(
        f"{base}/_fake/webhooks",
        data=json.dumps({"channel_id": channel_id}).encode(),
        headers={"Content-Type": "application/json", **HEADERS},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["url"])


def main() -> int:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    api_url = os.environ.get("DISCORD_API_URL", "http://discord:8081/api/v10")
    prefix = os.environ.get("SSM_PREFIX", "/discord-bot")
    aws.wait_http(endpoint + "/moto-api/")
    queues = aws.create_job_queues(endpoint, QUEUE)
    aws.create_table(endpoint, QUEUE)
    aws.create_table(endpoint, LIMITS)
    aws.create_table(endpoint, ANSWERS)
    aws.create_event_route(endpoint, BUS, SCHEDULER_QUEUE)
    ssm = aws.client("ssm", endpoint)
    for name in (f"{prefix}/webhook-url", f"{prefix}/servers/{DEV_GUILD_ID}/webhook-url"):
        ssm.put_parameter(
            Name=name,
            Value=standin_webhook(api_url, DEV_CHANNEL_ID),
            Type="SecureString",
            Overwrite=True,
        )
    print(
        f"[init] jobs queue {queues.url}, tables {QUEUE}, {LIMITS} and {ANSWERS}, bus {BUS}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
