"""The worker as real processes: killed mid-job, stopped with SIGTERM, and what they log."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys

import aiohttp
import pytest

from devtools import aws, interactions
from devtools.aws import free_port, wait_http
from devtools.models.openai_standin import DEFAULT_MODEL, OpenAIStandIn
from tests.conftest import APPLICATION_ID, BOT_TOKEN, ROOT, api_process_env, base_env
from tests.emf import emf_problems
from tests.worker.test_end_to_end import countdown, queue_depth


def final_text(seconds: int) -> str:
    return f"Countdown of {seconds} s finished"


async def first_progress(discord, token: str) -> None:
    await discord.wait_for(
        lambda: any((e or "").startswith("Counting down") for e in discord.edits(token)),
        timeout=20,
    )


async def job_gone(sqs, url: str) -> None:
    """Until the job's message is deleted: the worker has recorded it done."""
    async with asyncio.timeout(15):
        while queue_depth(sqs, url):
            await asyncio.sleep(0.1)


def events(worker) -> list[dict]:
    out = []
    for line in worker.log_lines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


async def test_worker_killed_mid_job_is_finished_by_another(
    api, moto, queues, table, discord, sqs, spawn_worker
):
    # GIVEN a worker running a countdown, holding its message and its lock by heartbeats
    env = base_env(
        moto, queues, discord.url, WORKER_VISIBILITY_TIMEOUT="2", IDEMPOTENCY_TABLE=table
    )
    first = spawn_worker(env)
    payload = countdown(3)
    await api.post(payload)
    await first_progress(discord, payload["token"])
    # WHEN it is killed outright (no chance to release anything)
    first.kill()
    # THEN the message reappears after the visibility timeout and a new worker finishes it
    spawn_worker(env)
    await discord.wait_for(lambda: final_text(3) in discord.edits(payload["token"]), timeout=30)
    await job_gone(sqs, queues.url)  # done with: no further edit can come
    assert discord.edits(payload["token"]).count(final_text(3)) == 1


async def test_sigterm_lets_a_running_job_finish_then_exits_0(
    api, moto, queues, discord, sqs, spawn_worker
):
    env = base_env(moto, queues, discord.url, WORKER_SHUTDOWN_GRACE="20")
    worker = spawn_worker(env)
    payload = countdown(2)
    await api.post(payload)
    await first_progress(discord, payload["token"])
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.wait(timeout=25) == 0
    assert discord.edits(payload["token"]).count(final_text(2)) == 1
    assert queue_depth(sqs, queues.url) == 0
    stopped = [e for e in events(worker) if e["event"] == "worker_stopped"]
    assert stopped == [stopped[0]]
    assert stopped[0]["released"] == 0


async def test_sigterm_releases_a_job_longer_than_the_grace(
    api, moto, queues, table, discord, sqs, spawn_worker
):
    # GIVEN a long visibility timeout, so only an explicit release of the message and of its
    # lock can let another worker run it soon
    env = base_env(
        moto,
        queues,
        discord.url,
        WORKER_SHUTDOWN_GRACE="1",
        WORKER_VISIBILITY_TIMEOUT="120",
        IDEMPOTENCY_TABLE=table,
    )
    worker = spawn_worker(env)
    payload = countdown(6)
    await api.post(payload)
    await first_progress(discord, payload["token"])
    # WHEN the worker is told to stop and the job outlives the grace
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.wait(timeout=15) == 0
    assert final_text(6) not in discord.edits(payload["token"])
    assert any(e["event"] == "message_released" for e in events(worker))
    # THEN another worker picks it up at once and finishes it, with one final edit
    spawn_worker(env)
    await discord.wait_for(lambda: final_text(6) in discord.edits(payload["token"]), timeout=20)
    await job_gone(sqs, queues.url)  # done with: no further edit can come
    assert discord.edits(payload["token"]).count(final_text(6)) == 1


async def test_idle_worker_stops_promptly_on_sigterm(moto, queues, discord, spawn_worker):
    worker = spawn_worker(base_env(moto, queues, discord.url))
    async with asyncio.timeout(10):
        while not any(e["event"] == "worker_started" for e in events(worker)):
            await asyncio.sleep(0.05)
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.wait(timeout=10) == 0


@pytest.fixture
async def model():
    async with OpenAIStandIn.running() as standin:
        yield standin


async def test_no_token_or_secret_reaches_a_log_line(
    moto, queues, discord, signing_key, spawn_worker, tmp_path, model
):
    # GIVEN the API and the worker as real processes, logging JSON to files, with a model
    port = free_port()
    env = api_process_env(
        moto,
        queues,
        discord.url,
        signing_key,
        port,
        LOG_LEVEL="DEBUG",
        LLM_PROVIDER="openai",
        LLM_MODEL=DEFAULT_MODEL,
        LLM_BASE_URL=model.url,
        LLM_TABLE=aws.create_table(moto, f"answers-{port}"),
        LLM_RETRIES="2",
    )
    api_log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen(
        [sys.executable, "-m", "services.api"],
        env=env,
        cwd=ROOT,
        stdout=api_log,
        stderr=subprocess.STDOUT,
    )
    worker = spawn_worker(env)
    try:
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/healthz")
        # WHEN commands run, a forged request comes in, Discord fails once and throttles
        # once, and the model throttles once
        discord.fail(status=500, times=1, route="PATCH")
        discord.fail(status=429, times=1, route="PATCH", retry_after=0.2)
        model.fail(429, times=1)
        sent = [
            interactions.command(APPLICATION_ID, "ping"),
            countdown(1),
            interactions.command(APPLICATION_ID, "no-such-command"),
            interactions.command(
                APPLICATION_ID, "ask", [{"name": "prompt", "type": 3, "value": "Hello?"}]
            ),
        ]
        async with aiohttp.ClientSession() as session:
            for payload in sent:
                body = interactions.encode(payload)
                async with session.post(
                    f"http://127.0.0.1:{port}/interactions",
                    data=body,
                    headers=interactions.sign(signing_key, body),
                ) as response:
                    assert response.status == 200
            forged = interactions.encode(interactions.ping(APPLICATION_ID))
            async with session.post(
                f"http://127.0.0.1:{port}/interactions",
                data=forged,
                headers={"x-signature-ed25519": "00" * 64, "x-signature-timestamp": "1"},
            ) as response:
                assert response.status == 401
        await discord.wait_for(lambda: final_text(1) in discord.edits(sent[1]["token"]), timeout=20)
        async with asyncio.timeout(20):
            while not any(e.get("event") == "answer" for e in events(worker)):
                await asyncio.sleep(0.1)
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=20)
        api_log.close()
        worker.process.send_signal(signal.SIGTERM)
        await worker.wait(timeout=20)
    logged = (tmp_path / "api.log").read_text() + "\n".join(worker.log_lines())
    # THEN each unit of work has its canonical line...
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    handled = [e for e in lines if e["event"] == "interaction"]
    assert {e.get("outcome") for e in handled} >= {
        "replied",
        "deferred",
        "unknown_command",
        "rejected",
    }
    assert any(e["event"] == "job" and e["outcome"] == "completed" for e in lines)
    # ...that is also its metrics, in CloudWatch's embedded format, for its service
    measured = [line for line in lines if "_aws" in line]
    for line in measured:
        assert emf_problems(line) == [], line
        assert line["Service"] == ("api" if line["event"] == "interaction" else "worker")
    by_event = {}
    for line in measured:
        by_event.setdefault(line["event"], []).append(line)
    assert set(by_event) == {
        "interaction",
        "job",
        "answer",
        "model_retry",
        "discord_request",
        "discord_rate_limited",
    }
    deferred = next(e for e in by_event["interaction"] if e["outcome"] == "deferred")
    assert deferred["EnqueueLatency"] > 0
    assert deferred["Interactions"] == 1
    assert {e["Command"] for e in by_event["job"]} >= {"countdown", "ask"}
    (answer,) = by_event["answer"]
    assert (answer["Model"], answer["TokensOut"] > 0) == (DEFAULT_MODEL, True)
    assert by_event["model_retry"][0]["Kind"] == "rate_limited"
    statuses = {(e["Route"], e["Status"]) for e in by_event["discord_request"]}
    edit = "PATCH /webhooks/{application_id}/{token}/messages/@original"
    assert {(edit, "500"), (edit, "429"), (edit, "200")} <= statuses
    (throttled,) = by_event["discord_rate_limited"]
    assert (throttled["Route"], throttled["DiscordRateLimited"]) == (edit, 1)
    # ...and no secret appears anywhere, not even in the retry warnings
    for payload in sent:
        assert payload["token"] not in logged
    assert BOT_TOKEN not in logged
    for path in re.findall(r"/webhooks/[0-9]+/[^/\"\s]+", logged):
        assert path.endswith(("{token}", "[redacted]")), path
    assert "discord_server_error" in logged
