"""Finished jobs' messages are deleted ten to a call, through a real SQS (moto, behind the
fault proxy that counts the calls)."""

from __future__ import annotations

import asyncio

import structlog

from devtools import aws
from services.core.config import AwsSettings
from services.core.queue import sqs_client
from services.worker.deletes import MAX_IN_FLIGHT, Deletes
from tests.conftest import queue_depth


async def test_deletes_that_end_together_share_calls_and_a_bad_one_is_logged_alone(
    moto, queues, sqs, aws_faults
):
    for start in range(0, 25, 10):
        sqs.send_message_batch(
            QueueUrl=queues.url,
            Entries=[
                {"Id": str(n), "MessageBody": f"job {n}"} for n in range(start, min(start + 10, 25))
            ],
        )
    received = []
    while len(received) < 25:
        answer = sqs.receive_message(
            QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=60
        )
        received += answer.get("Messages", [])
    settings = AwsSettings(
        region=aws.LOCAL_REGION, endpoint_url=aws_faults.url, jobs_queue_url=queues.url
    )
    async with sqs_client(settings, connect_timeout=5, read_timeout=5, max_attempts=1) as client:
        deletes = Deletes(client, queues.url)
        handles = [(m["ReceiptHandle"], m["MessageId"]) for m in received]
        handles.append(("not-a-receipt-handle", "forged-1"))
        with structlog.testing.capture_logs() as logs:
            for handle, message_id in handles:
                deletes.delete(handle, message_id)
            await deletes.flush(5)
    assert aws_faults.calls["DeleteMessageBatch"] == 3
    assert aws_faults.calls["DeleteMessage"] == 0
    assert queue_depth(sqs, queues.url) == 0
    failed = [e for e in logs if e["event"] == "delete_failed"]
    assert [e["message_id"] for e in failed] == ["forged-1"]


async def test_a_lone_delete_goes_within_the_gather_time_and_a_failed_call_names_each(
    moto, queues, sqs, aws_faults
):
    sqs.send_message(QueueUrl=queues.url, MessageBody="job")
    (message,) = sqs.receive_message(QueueUrl=queues.url, VisibilityTimeout=60)["Messages"]
    settings = AwsSettings(
        region=aws.LOCAL_REGION, endpoint_url=aws_faults.url, jobs_queue_url=queues.url
    )
    async with sqs_client(settings, connect_timeout=5, read_timeout=5, max_attempts=1) as client:
        deletes = Deletes(client, queues.url, gather=0.05)
        aws_faults.fail("DeleteMessageBatch", "error", times=1)
        with structlog.testing.capture_logs() as logs:
            deletes.delete(message["ReceiptHandle"], message["MessageId"])
            async with asyncio.timeout(5):  # sent by its timer, no flush asked
                while not any(e["event"] == "delete_failed" for e in logs):
                    await asyncio.sleep(0.01)
        assert [e["message_id"] for e in logs if e["event"] == "delete_failed"] == [
            message["MessageId"]
        ]
        deletes.delete(message["ReceiptHandle"], message["MessageId"])
        async with asyncio.timeout(5):
            while queue_depth(sqs, queues.url):
                await asyncio.sleep(0.01)
        await deletes.flush(5)
    assert aws_faults.calls["DeleteMessageBatch"] == 2


async def test_a_slow_sqs_gets_a_few_delete_calls_at_once_and_shutdown_waits_a_bounded_time(
    moto, queues, sqs, aws_faults
):
    settings = AwsSettings(
        region=aws.LOCAL_REGION, endpoint_url=aws_faults.url, jobs_queue_url=queues.url
    )
    aws_faults.fail("DeleteMessageBatch", "slow", times=1000, delay=2)
    async with sqs_client(settings, connect_timeout=5, read_timeout=10, max_attempts=1) as client:
        deletes = Deletes(client, queues.url, gather=0.01)
        for n in range(60):
            deletes.delete(f"handle-{n}", f"message-{n}")
            await asyncio.sleep(0.02)
        # 60 deletes, the batches' calls each slow: only a few at once...
        assert aws_faults.calls["DeleteMessageBatch"] == MAX_IN_FLIGHT
        # ...so the worker's other calls still find a connection at once.
        started = asyncio.get_running_loop().time()
        await client.get_queue_attributes(QueueUrl=queues.url, AttributeNames=["QueueArn"])
        assert asyncio.get_running_loop().time() - started < 1
        with structlog.testing.capture_logs() as logs:
            started = asyncio.get_running_loop().time()
            await deletes.flush(1)
            assert asyncio.get_running_loop().time() - started < 2
    assert [e["event"] for e in logs if e["event"] == "deletes_unsent"] == ["deletes_unsent"]
