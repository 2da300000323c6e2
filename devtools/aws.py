"""A local AWS endpoint (moto's server, as its own process) and the resources on it.

The tests and ``make run`` use the same code, so a local run behaves as the tests do.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

LOCAL_REGION = "us-east-1"
# moto accepts any credentials; these only keep botocore from looking for real ones.
LOCAL_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": LOCAL_REGION,
    "AWS_DEFAULT_REGION": LOCAL_REGION,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers HTTP at all (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout}s") from None
            time.sleep(0.1)


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Run moto's server on loopback for the duration; yield its endpoint URL."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Not in the terminal's process group: Ctrl-C stops what uses it first, then it.
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True, slots=True)
class JobQueues:
    url: str
    dlq_url: str


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_job_queues(endpoint: str, name: str, *, max_receives: int = 5) -> JobQueues:
    """The jobs queue with its dead-letter queue, as the deployed stack has them."""
    sqs = client("sqs", endpoint)
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
            ),
        },
    )["QueueUrl"]
    return JobQueues(url=url, dlq_url=dlq_url)


def process_env(endpoint: str, **extra: str) -> dict[str, str]:
    """Environment for a service process pointed at the local endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(LOCAL_CREDENTIALS)
    env["AWS_ENDPOINT_URL"] = endpoint
    env.update(extra)
    return env


def create_table(endpoint: str, name: str) -> str:
    """A table as the ledger and the limits use one: key ``id``, TTL on ``expires_at``."""
    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return name


def create_event_route(endpoint: str, bus_name: str, queue_name: str) -> str:
    """The bot's event bus, with its notifications routed to an SQS queue (where the
    deployed stack routes them to the scheduler Lambda); returns the queue URL."""
    events, sqs = client("events", endpoint), client("sqs", endpoint)
    events.create_event_bus(Name=bus_name)
    queue = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="notifications",
        EventBusName=bus_name,
        EventPattern=json.dumps({"source": ["discord-bot"], "detail-type": ["notification"]}),
    )
    events.put_targets(
        Rule="notifications", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": arn}]
    )
    return str(queue)
