"""The dead-letter tools: list what is parked without secrets, and move it back."""

from __future__ import annotations

import json

from devtools import interactions
from tests.conftest import base_env, run_module
from tests.worker.test_end_to_end import countdown, queue_depth
from tests.worker.test_reliability import enqueue


def dlq(env, *args):
    return run_module("services.worker.dlq", *args, env=env)


def test_list_shows_parked_jobs_without_tokens_and_redrive_moves_them_back(
    moto, queues, discord, sqs
):
    # GIVEN a parked job and a parked message that is not a job
    payload = countdown(5)
    enqueue(sqs, queues.dlq_url, payload)
    junk = f'{{"oops": "/webhooks/1/{interactions.interaction_token("5")}"}}'
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=junk)
    env = base_env(moto, queues, discord.url)

    listed = dlq(env, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    by_validity = {row["valid"]: row for row in rows}
    assert by_validity[True]["job_id"] == payload["id"]
    assert by_validity[True]["route"] == "command:countdown"
    assert by_validity[False]["reason"] == "unknown version None"
    assert payload["token"] not in listed.stdout
    assert "[redacted]" in by_validity[False]["preview"]
    # listing leaves them where they were
    assert queue_depth(sqs, queues.dlq_url) == 2

    one = dlq(env, "redrive", "--id", rows[0]["message_id"])
    assert one.returncode == 0, one.stderr
    assert (queue_depth(sqs, queues.url), queue_depth(sqs, queues.dlq_url)) == (1, 1)
    rest = dlq(env, "redrive")
    assert rest.returncode == 0
    assert (queue_depth(sqs, queues.url), queue_depth(sqs, queues.dlq_url)) == (2, 0)
    bodies = [
        m["Body"]
        for m in sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert junk in bodies


def test_without_a_redrive_policy_it_says_so(moto, discord):
    from devtools.aws import client

    url = client("sqs", moto).create_queue(QueueName="no-dlq")["QueueUrl"]
    env = {**base_env(moto, type("Q", (), {"url": url})(), discord.url)}
    result = dlq(env, "list")
    assert result.returncode == 2
    assert "no redrive policy" in result.stderr
