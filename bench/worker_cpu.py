"""The worker's CPU per no-op deferred job, against a floor measured in the same run (part of
``make bench``).

The job: ``/countdown seconds:1`` whose second is already spent (queued with its
``received_at`` in the past, as a job redelivered after a crash is), so the command's only
work is its final message: one Discord edit. The worker runs as deployed, ledger on (an
idempotency table), against the local queue and table (moto) and the Discord stand-in; its
CPU is read from /proc before and after JOBS jobs, less its idle CPU over as long, measured
first.

The floor: the calls one job makes, issued bare from one process with the same libraries
(aioboto3, aiohttp): ReceiveMessage for ten messages and DeleteMessageBatch for ten
(amortised over the batch), the ledger's two writes (PutItem to claim, UpdateItem to
complete), and one PATCH of the reply; CPU from the process's own clock around those calls
alone. What the worker spends above it is its own: reading and checking the job (the job
key's HMAC and Discord's Ed25519 signature), routing, the command, its log lines and
metrics, and whatever calls it makes that the floor does not.

    python -m bench.worker_cpu
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from bench.soak import cpu_seconds
from devtools import aws, interactions
from devtools.standin import DiscordStandIn
from services.core.aws import aws_client
from services.core.bot.loader import load_bot
from services.core.bot.responses import effective_defer, reply_is_ephemeral
from services.core.config import AwsSettings
from services.core.discord.interaction import Interaction
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.core.jobs import Job, JobCodec, SignedBody
from services.core.queue import sqs_client

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_ID = "100000000000000001"
BOT_TOKEN = "bench-bot-token"
JOBS = int(os.environ.get("BENCH_WORKER_JOBS", "300"))
ROUNDS = int(os.environ.get("BENCH_WORKER_ROUNDS", "5"))
BATCH = 10
IDLE_SECONDS = 5.0
TARGET = 1.3


def job_bodies(key: SigningKey, job_key: bytes, count: int) -> tuple[list[str], list[str]]:
    """``count`` signed /countdown jobs whose time is up, and their interaction tokens."""
    router = load_bot().router
    codec = JobCodec(key=job_key)
    bodies, tokens = [], []
    for _ in range(count):
        payload = interactions.command(
            APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 1}]
        )
        raw = interactions.encode(payload)
        headers = interactions.sign(key, raw)
        interaction = Interaction.from_payload(payload)
        route = router.match(interaction, None).route
        job = Job.for_route(
            interaction,
            route.id,
            defer=effective_defer(route, interaction),
            ephemeral=reply_is_ephemeral(route, interaction),
            received_at=time.time() - 60,
            signed=SignedBody(raw.decode(), headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]),
        )
        bodies.append(codec.encode(job))
        tokens.append(payload["token"])
    return bodies, tokens


def send_all(endpoint: str, queue_url: str, bodies: list[str]) -> None:
    sqs = aws.client("sqs", endpoint)
    for start in range(0, len(bodies), BATCH):
        entries = [
            {"Id": str(n), "MessageBody": body}
            for n, body in enumerate(bodies[start : start + BATCH])
        ]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)


async def worker_cpu(endpoint: str, fake: DiscordStandIn) -> dict[str, Any]:
    key, job_key = SigningKey.generate(), secrets.token_urlsafe(32)
    stamp = uuid.uuid4().hex[:8]
    queues = aws.create_job_queues(endpoint, f"bench-worker-{stamp}")
    table = aws.create_table(endpoint, f"bench-ledger-{stamp}")
    env = aws.process_env(
        endpoint,
        JOBS_QUEUE_URL=queues.url,
        IDEMPOTENCY_TABLE=table,
        JOB_SIGNING_KEY=job_key,
        CUSTOM_ID_SECRET=secrets.token_urlsafe(32),
        DISCORD_APPLICATION_ID=APPLICATION_ID,
        DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
        DISCORD_API_URL=fake.url,
        DISCORD_BOT_TOKEN=BOT_TOKEN,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    bodies, tokens = job_bodies(key, job_key.encode(), JOBS)
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(3)  # started and polling
        idle_from = cpu_seconds(worker.pid)
        await asyncio.sleep(IDLE_SECONDS)
        idle_rate = (cpu_seconds(worker.pid) - idle_from) / IDLE_SECONDS
        started, cpu_from = time.monotonic(), cpu_seconds(worker.pid)
        await asyncio.to_thread(send_all, endpoint, queues.url, bodies)

        def finished() -> bool:
            return all(fake.edits(token) for token in tokens)

        await fake.wait_for(finished, timeout=600)
        if sum(len(fake.edits(token)) for token in tokens) != JOBS:
            raise SystemExit("a job edited its reply more than once: not a no-op job")
        await asyncio.sleep(0.5)  # the last deletes and log lines
        elapsed = time.monotonic() - started
        spent = cpu_seconds(worker.pid) - cpu_from - idle_rate * elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    edits = sum(len(fake.edits(token)) for token in tokens)
    return {
        "body_size": len(bodies[0]),
        "jobs": JOBS,
        "edits": edits,
        "elapsed_s": round(elapsed, 2),
        "idle_cpu_ms_per_s": round(idle_rate * 1000, 2),
        "cpu_ms_per_job": round(spent / JOBS * 1000, 3),
    }


async def floor_calls(endpoint: str, discord_url: str, jobs: int, body_size: int) -> float:
    """CPU seconds of the bare calls of ``jobs`` jobs (run in a process of its own): the
    clients configured as the worker's, the items and expressions the ledger writes."""
    stamp = uuid.uuid4().hex[:8]
    queue_url = aws.create_job_queues(endpoint, f"bench-floor-{stamp}").url
    table = aws.create_table(endpoint, f"bench-floor-{stamp}")
    send_all(endpoint, queue_url, ["x" * body_size] * jobs)
    settings = AwsSettings(region=aws.LOCAL_REGION, endpoint_url=endpoint, jobs_queue_url=queue_url)
    headers = {"Authorization": f"Bot {BOT_TOKEN}"}
    owner, now = uuid.uuid4().hex, int(time.time())
    async with (
        sqs_client(settings, connect_timeout=5, read_timeout=25, max_attempts=3) as sqs,
        aws_client(
            "dynamodb", settings, connect_timeout=5, read_timeout=10, max_attempts=3
        ) as dynamodb,
        aiohttp.ClientSession(headers=headers) as http,
    ):

        async def one_job(job_id: str) -> None:
            await dynamodb.put_item(
                TableName=table,
                Item={
                    "id": {"S": job_id},
                    "status": {"S": "in_progress"},
                    "owner": {"S": owner},
                    "lock_until": {"N": str(now + 300)},
                    "expires_at": {"N": str(now + 86400)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR (#s = :in_progress AND lock_until < :now)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": "in_progress"},
                    ":now": {"N": str(now)},
                },
            )
            url = f"{discord_url}/webhooks/{APPLICATION_ID}/{job_id}/messages/@original"
            async with http.patch(url, json={"content": "Countdown of 1 s finished"}) as r:
                await r.read()
            await dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": job_id}},
                UpdateExpression="SET #s = :completed, expires_at = :expires REMOVE lock_until",
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner", "#s": "status"},
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":completed": {"S": "completed"},
                    ":expires": {"N": str(now + 86400)},
                },
            )

        spent = 0.0
        done = 0
        while done < jobs:
            before = time.process_time()
            received = await sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = received.get("Messages", [])
            await asyncio.gather(*(one_job(uuid.uuid4().hex) for _ in messages))
            if messages:
                await sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(messages)
                    ],
                )
            spent += time.process_time() - before
            done += len(messages)
    return spent


async def run(endpoint: str) -> dict[str, Any]:
    """ROUNDS rounds, each the worker then the floor: drift on the machine (shared here)
    touches both alike; the figure is the median of the rounds' ratios."""
    rounds = []
    async with DiscordStandIn(application_id=APPLICATION_ID, bot_token=BOT_TOKEN) as fake:
        for _ in range(ROUNDS):
            measured = await worker_cpu(endpoint, fake)
            floor = await asyncio.to_thread(
                subprocess.run,
                [
                    *(sys.executable, "-m", "bench.worker_cpu", "--floor"),
                    *(endpoint, fake.url, str(JOBS), str(measured.pop("body_size"))),
                ],
                cwd=ROOT,
                env={**os.environ, **aws.LOCAL_CREDENTIALS},
                capture_output=True,
                text=True,
                check=True,
            )
            floor_ms = float(floor.stdout.strip().splitlines()[-1]) / JOBS * 1000
            measured["floor_cpu_ms_per_job"] = round(floor_ms, 3)
            measured["ratio"] = round(measured["cpu_ms_per_job"] / floor_ms, 2)
            rounds.append(measured)
    return {
        "rounds": rounds,
        "cpu_ms_per_job": statistics.median(r["cpu_ms_per_job"] for r in rounds),
        "floor_cpu_ms_per_job": statistics.median(r["floor_cpu_ms_per_job"] for r in rounds),
        "ratio": statistics.median(r["ratio"] for r in rounds),
    }


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--floor":
        endpoint, discord_url, jobs, size = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        print(asyncio.run(floor_calls(endpoint, discord_url, jobs, int(size))))
        return 0
    with aws.moto_server() as endpoint:
        os.environ.update(aws.LOCAL_CREDENTIALS)
        results = asyncio.run(run(endpoint))
    print(f"\n{'worker CPU per no-op deferred job, ledger on':<50}{'ms':>10}")
    floor = results["floor_cpu_ms_per_job"]
    print(f"{'floor: the same calls, bare (batch amortised)':<50}{floor:>10}")
    print(f"{'worker':<50}{results['cpu_ms_per_job']:>10}")
    ratio = results["ratio"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    spread = ", ".join(f"{r['ratio']:.2f}" for r in results["rounds"])
    print(f"worker / floor, median of {ROUNDS} rounds: {ratio:.2f} ({spread})")
    print(f"target <= {TARGET}: {verdict}; {JOBS} jobs a round, each with its one final edit")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "worker_cpu.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
