"""Soak: 1,000 deferred interactions through one API and two workers against the local
queue, with Discord and AWS faults injected at random; every interaction must end in
exactly one final reply.

    python -m bench.soak          (part of `make bench`)

The fake Discord answers a share (SOAK_CHAOS, default 5%) of requests with a random 429
(per-route or global), 500/502/503, or a slow answer. Every AWS call of the services goes
through the fault proxy (``devtools.awsfaults``), which fails a share (SOAK_AWS_CHAOS,
default 2%) with throttling, a 500, a dropped connection or an answer lost after the call
was done (a queued message twice, a lock written but unheard of). The interactions come
from 250 members of 50 servers, with the per-user and per-server limits on.

Counted: interactions acknowledged, final replies missing (lost) and doubled (duplicates),
throughput, ack p99, end-to-end p50 and p99 (signed request sent -> final edit seen), and
the workers' CPU seconds per 1,000 jobs. Interactions the API refused at once (an ephemeral
error: the enqueue outlived its budget, or a limit) are counted apart: the user had their
one reply, at once.
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
from pathlib import Path
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from devtools import aws, interactions
from devtools.awsfaults import AwsFaults
from devtools.standin import DiscordStandIn

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_ID = "100000000000000001"
JOBS = int(os.environ.get("SOAK_JOBS", "1000"))
CHAOS = float(os.environ.get("SOAK_CHAOS", "0.05"))
AWS_CHAOS = float(os.environ.get("SOAK_AWS_CHAOS", "0.02"))
USERS, SERVERS = 250, 50
# Concurrent senders: Discord's traffic for one bot, bursty; the local queue (moto, one
# process sharing 2 cores with everything else) is the slowest part at this rate.
SENDERS = int(os.environ.get("SOAK_SENDERS", "8"))
FINAL = "Countdown of 1 s finished"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


async def soak(endpoint: str) -> dict[str, Any]:
    key = SigningKey.generate()
    queues = aws.create_job_queues(endpoint, f"soak-{int(time.time())}", max_receives=8)
    table = aws.create_table(endpoint, f"soak-{int(time.time())}")
    limits = aws.create_table(endpoint, f"soak-limits-{int(time.time())}")
    finals: dict[str, list[float]] = {}

    def on_event(kind: str, record: Any, message: dict[str, Any] | None) -> None:
        if message and message.get("content") == FINAL and kind in ("edit_original", "bot_edit"):
            finals.setdefault(record.token, []).append(time.monotonic())

    async with (
        DiscordStandIn(
            application_id=APPLICATION_ID,
            bot_token="soak-bot-token",
            on_event=on_event,
            chaos=CHAOS,
        ) as fake,
        AwsFaults(upstream=endpoint, chaos=AWS_CHAOS) as faults,
    ):
        port = aws.free_port()
        env = aws.process_env(
            faults.url,
            JOBS_QUEUE_URL=queues.url,
            IDEMPOTENCY_TABLE=table,
            LIMITS_TABLE=limits,
            JOB_SIGNING_KEY=secrets.token_urlsafe(32),
            CUSTOM_ID_SECRET=secrets.token_urlsafe(32),
            DISCORD_APPLICATION_ID=APPLICATION_ID,
            DISCORD_API_URL=fake.url,
            DISCORD_BOT_TOKEN="soak-bot-token",
            DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
            HOST="127.0.0.1",
            PORT=str(port),
            WORKER_VISIBILITY_TIMEOUT="10",
            WORKER_RETRY_BASE="1",
            WORKER_MAX_RECEIVES="8",
            WORKER_POLL_SECONDS="2",
            LOG_LEVEL="WARNING",
        )

        def start(service: str) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        api = start("api")
        workers = [start("worker"), start("worker")]
        try:
            await asyncio.to_thread(aws.wait_http, f"http://127.0.0.1:{port}/healthz")
            cpu_before = [cpu_seconds(w.pid) for w in workers]
            sent: dict[str, float] = {}
            acks: list[float] = []
            refused = 0
            todo = list(range(JOBS))
            url = f"http://127.0.0.1:{port}/interactions"

            async def sender(session: aiohttp.ClientSession) -> None:
                nonlocal refused
                while todo:
                    n = todo.pop()
                    member = 700000000000000000 + n % USERS
                    payload = interactions.command(
                        APPLICATION_ID,
                        "countdown",
                        [{"name": "seconds", "type": 4, "value": 1}],
                        guild_id=str(800000000000000000 + member % SERVERS),
                        invoker=interactions.user(str(member), f"member{n % USERS}"),
                    )
                    body = interactions.encode(payload)
                    started = time.monotonic()
                    async with session.post(
                        url, data=body, headers=interactions.sign(key, body)
                    ) as response:
                        answer = await response.json()
                    acks.append(time.monotonic() - started)
                    if answer.get("type") == 5:
                        sent[payload["token"]] = started
                    else:
                        refused += 1

            began = time.monotonic()
            async with aiohttp.ClientSession() as session:
                await asyncio.gather(*(sender(session) for _ in range(SENDERS)))
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not all(t in finals for t in sent):
                await asyncio.sleep(0.5)
            # Long enough for a late duplicate to show itself.
            await asyncio.sleep(5)
            cpu = sum(cpu_seconds(w.pid) - b for w, b in zip(workers, cpu_before, strict=True))
        finally:
            for process in [api, *workers]:
                process.terminate()
            for process in [api, *workers]:
                process.wait(timeout=120)
        done = [t for t in sent if t in finals]
        end_to_end = [finals[t][0] - sent[t] for t in done]
        last = max(finals[t][0] for t in done) if done else began
        injected = sum(1 for r in fake.requests if r.status in (429, 500, 502, 503))
        aws_calls, aws_faults = faults.calls.total(), faults.injected.total()
        return {
            "jobs": JOBS,
            "chaos": CHAOS,
            "acknowledged": len(sent),
            "refused_at_ack": refused,
            "lost": len(sent) - len(done),
            "duplicate_finals": sum(1 for t in done if len(finals[t]) > 1),
            "discord_requests": len(fake.requests),
            "discord_faults_answered": injected,
            "schema_violations": len(fake.violations),
            "aws_chaos": AWS_CHAOS,
            "aws_calls": aws_calls,
            "aws_faults_injected": aws_faults,
            "throughput_jobs_per_s": round(len(done) / (last - began), 1),
            "ack_p99_ms": round(percentile(acks, 0.99) * 1000, 1),
            "end_to_end_p50_s": round(statistics.median(end_to_end), 2) if done else None,
            "end_to_end_p99_s": round(percentile(end_to_end, 0.99), 2) if done else None,
            "worker_cpu_s_per_1000_jobs": round(cpu / max(1, len(done)) * 1000, 1),
        }


def main() -> int:
    os.environ.update(aws.LOCAL_CREDENTIALS)
    with aws.moto_server() as endpoint:
        results = asyncio.run(soak(endpoint))
    for name, value in results.items():
        print(f"{name:<28} {value}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "soak.json").write_text(json.dumps(results, indent=1))
    # An interaction refused at the ack got its one reply then (an ephemeral error, when the
    # enqueue outlived its budget); every accepted one must end in exactly one final edit.
    ok = (
        results["lost"] == 0
        and results["duplicate_finals"] == 0
        and results["schema_violations"] == 0
    )
    print("every accepted interaction ended in exactly one final reply" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
