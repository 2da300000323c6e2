"""What the worker runs is only what Discord sent through the API (or the scheduler sent):
forged and altered queue messages are parked, never run, and never reach Discord or SSM."""

from __future__ import annotations

import asyncio
import json

import structlog

from devtools import aws, interactions
from services.core.discord.models import Permissions
from services.core.jobs import JobCodec, TaskJob
from tests.conftest import APPLICATION_ID, base_env, running_worker, signed_job
from tests.core.test_jobs import _with_interaction
from tests.worker.test_end_to_end import countdown, queue_depth

GUILD = interactions.DEV_GUILD_ID


def _webhook_job() -> tuple[dict, str]:
    payload = interactions.command(
        APPLICATION_ID,
        "config",
        [
            {
                "type": 1,
                "name": "webhook",
                "options": [
                    {"name": "url", "type": 3, "value": "https://discord.com/api/webhooks/1/x"}
                ],
            }
        ],
        permissions=0,  # an ordinary member: /config refuses them
    )
    return payload, signed_job(payload, "command:config webhook", ephemeral=True)


async def test_forged_and_altered_jobs_are_parked_and_never_run(moto, queues, discord, sqs):
    payload, genuine = _webhook_job()

    def admin(raw):
        raw["member"]["permissions"] = str(int(Permissions.ADMINISTRATOR))

    raised = _with_interaction(genuine, admin)  # the permissions raised, the job key known
    rerouted = json.loads(genuine)
    rerouted["route"] = "command:notify"  # the route changed, without the job key
    unsigned_v1 = json.dumps(
        {
            "v": 1,
            "kind": "command",
            "id": payload["id"],
            "command": "config webhook",
            "received_at": 1.0,
            "interaction": {**payload, "channel_id": "1"},
        }
    )
    forged_task = JobCodec(key=b"a key the attacker chose, long enough!").encode(
        TaskJob("t", "daily-reminder", 1.0, {})
    )
    # And bodies chosen to break a reader rather than fool it.
    hostile = ["[" * 50_000, '{"v": 2, "mac": "é"}']
    bodies = [raised, json.dumps(rerouted), unsigned_v1, forged_task, *hostile]
    for body in bodies:
        sqs.send_message(QueueUrl=queues.url, MessageBody=body)
    env = base_env(moto, queues, discord.url, SSM_PREFIX="/forged-test")
    with structlog.testing.capture_logs() as logs:
        async with running_worker(env):
            async with asyncio.timeout(30):
                while queue_depth(sqs, queues.dlq_url) < len(bodies):
                    await asyncio.sleep(0.2)
    # Parked, untouched, each refusal logged with its reason...
    assert queue_depth(sqs, queues.url) == 0
    reasons = {e["reason"] for e in logs if e["event"] == "job" and e["outcome"] == "invalid"}
    assert any("not signed by Discord" in r for r in reasons)
    assert any("MAC" in r for r in reasons)
    assert any("version-1" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert not [e for e in logs if e["event"] == "process_crashed"]
    # ...and nothing reached Discord, nor the server's configuration.
    assert discord.requests == []
    ssm = aws.client("ssm", moto)
    stored = ssm.get_parameters_by_path(Path="/forged-test", Recursive=True)["Parameters"]
    assert stored == []


async def test_the_genuine_job_beside_them_runs(moto, queues, discord, sqs):
    payload = countdown(1)
    sqs.send_message(QueueUrl=queues.url, MessageBody=signed_job(payload, "command:countdown"))
    env = base_env(moto, queues, discord.url)
    async with running_worker(env):
        await discord.wait_for(
            lambda: "Countdown of 1 s finished" in discord.edits(payload["token"]), timeout=15
        )
