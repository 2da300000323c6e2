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

    one = dlq(env, "redrive", "--id", by_validity[True]["message_id"])
    assert one.returncode == 0, one.stderr
    assert (queue_depth(sqs, queues.url), queue_depth(sqs, queues.dlq_url)) == (1, 1)
    moved = sqs.receive_message(QueueUrl=queues.url)["Messages"][0]["Body"]
    assert json.loads(moved)["id"] == payload["id"]
    # What the worker would refuse again stays parked, and the operator hears so.
    rest = dlq(env, "redrive")
    assert rest.returncode == 0
    assert "kept 1 invalid message(s) parked" in rest.stderr
    assert queue_depth(sqs, queues.dlq_url) == 1
    parked = sqs.receive_message(QueueUrl=queues.dlq_url)["Messages"][0]["Body"]
    assert parked == junk


def test_list_shows_messages_built_to_break_a_reader(moto, queues, discord, sqs):
    for body in ("[" * 50_000, '{"v": 2, "mac": "é"}'):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    listed = dlq(base_env(moto, queues, discord.url), "list")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(row["reason"] for row in rows) == [
        "body is not JSON",
        "forged or altered: its MAC does not match",
    ]


def test_without_a_redrive_policy_it_says_so(moto, discord):
    from devtools.aws import client

    url = client("sqs", moto).create_queue(QueueName="no-dlq")["QueueUrl"]
    env = {**base_env(moto, type("Q", (), {"url": url})(), discord.url)}
    result = dlq(env, "list")
    assert result.returncode == 2
    assert "no redrive policy" in result.stderr
