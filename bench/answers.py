"""Streamed answers: the worker's CPU per answer and per Discord request, and the time from
the model's first token to the first edit of the reply.

    python -m bench.answers       (part of `make bench`)

One API and one worker process against the local queue and tables, the Discord stand-in and
the OpenAI-protocol model stand-in, which streams each answer (ANSWER_CHARS characters, a
code block in it) a few words at a time. ANSWERS answers run ANSWERS_AT_ONCE at a time. The
worker's CPU is read from /proc before and after; its idle CPU over as long a time, measured
first in the same run, is taken off. The time to first edit is each answer's own log line
(``first_edit_ms``): from the first token read to the first edit Discord accepted.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from bench.soak import cpu_seconds, percentile
from devtools import aws, interactions
from devtools.models.openai_standin import DEFAULT_MODEL, OpenAIStandIn
from devtools.standin import DiscordStandIn

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_ID = "100000000000000001"
ANSWERS = int(os.environ.get("BENCH_ANSWERS", "40"))
AT_ONCE = int(os.environ.get("BENCH_ANSWERS_AT_ONCE", "8"))
ANSWER_CHARS = int(os.environ.get("BENCH_ANSWER_CHARS", "4000"))
EDIT_INTERVAL = "1"


def answer_text() -> str:
    line = "The model explains one more thing about the question, at some length."
    code = "\n".join(f"print({n})  # line {n}" for n in range(20))
    body = f"{line} " * 10 + f"\n\n```python\n{code}\n```\n\n"
    return (body * (ANSWER_CHARS // len(body) + 1))[:ANSWER_CHARS]


async def run(endpoint: str) -> dict[str, Any]:
    key = SigningKey.generate()
    stamp = int(time.time())
    queues = aws.create_job_queues(endpoint, f"bench-answers-{stamp}")
    table = aws.create_table(endpoint, f"bench-answers-{stamp}")
    async with (
        DiscordStandIn(application_id=APPLICATION_ID, bot_token="bench-bot-token") as fake,
        OpenAIStandIn.running() as model,
    ):
        port = aws.free_port()
        env = aws.process_env(
            endpoint,
            JOBS_QUEUE_URL=queues.url,
            JOB_SIGNING_KEY=secrets.token_urlsafe(32),
            CUSTOM_ID_SECRET=secrets.token_urlsafe(32),
            DISCORD_APPLICATION_ID=APPLICATION_ID,
            DISCORD_API_URL=fake.url,
            DISCORD_BOT_TOKEN="bench-bot-token",
            DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
            HOST="127.0.0.1",
            PORT=str(port),
            WORKER_POLL_SECONDS="2",
            LLM_PROVIDER="openai",
            LLM_MODEL=DEFAULT_MODEL,
            LLM_BASE_URL=model.url,
            LLM_TABLE=table,
            LLM_EDIT_INTERVAL=EDIT_INTERVAL,
            LLM_MAX_OUTPUT_TOKENS="4000",
            LLM_USER_ANSWERS="0",
            LLM_SERVER_ANSWERS="0",
            LLM_USER_DAILY_TOKENS="0",
            LLM_SERVER_DAILY_TOKENS="0",
            LOG_LEVEL="INFO",
            LOG_FORMAT="json",
        )
        with tempfile.TemporaryFile() as worker_log:
            api = subprocess.Popen(
                [sys.executable, "-m", "services.api"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "services.worker"],
                env=env,
                cwd=ROOT,
                stdout=worker_log,
                stderr=subprocess.DEVNULL,
            )
            try:
                await asyncio.to_thread(aws.wait_http, f"http://127.0.0.1:{port}/healthz")
                await asyncio.sleep(2)  # the worker's start-up is not the answers' cost
                idle_began, idle_cpu = time.monotonic(), cpu_seconds(worker.pid)
                await asyncio.sleep(5)
                idle_rate = (cpu_seconds(worker.pid) - idle_cpu) / (time.monotonic() - idle_began)
                text = answer_text()
                for _ in range(ANSWERS):
                    model.script(text, chunk_words=4, delay=0.02)
                began, cpu_before = time.monotonic(), cpu_seconds(worker.pid)
                tokens = await _ask_all(key, f"http://127.0.0.1:{port}/interactions", fake)
                await _finish(fake, tokens, began)
                cpu = cpu_seconds(worker.pid) - cpu_before
                wall = time.monotonic() - began
            finally:
                for process in (api, worker):
                    process.terminate()
                for process in (api, worker):
                    process.wait(timeout=60)
            worker_log.seek(0)
            lines = [json.loads(raw) for raw in worker_log if raw.startswith(b"{")]
    answers = [e for e in lines if e.get("event") == "answer"]
    requests = [r for r in fake.requests if any(t in r.path for t in tokens)]
    busy = cpu - idle_rate * wall
    first_edit = [a["first_edit_ms"] for a in answers if a.get("first_edit_ms") is not None]
    return {
        "answers": ANSWERS,
        "answers_finished": len(answers),
        "at_once": AT_ONCE,
        "characters_per_answer": ANSWER_CHARS,
        "edit_interval_s": float(EDIT_INTERVAL),
        "discord_requests": len(requests),
        "messages": sum(a["messages"] for a in answers),
        "worker_cpu_ms_per_answer": round(busy / max(1, len(answers)) * 1000, 1),
        "worker_cpu_ms_per_discord_request": round(busy / max(1, len(requests)) * 1000, 2),
        "worker_idle_cpu_ms_per_s": round(idle_rate * 1000, 2),
        "first_token_to_first_edit_ms_p50": round(statistics.median(first_edit), 1),
        "first_token_to_first_edit_ms_p99": round(percentile(first_edit, 0.99), 1),
        "schema_violations": len(fake.violations) + len(model.violations),
    }


async def _ask_all(key: SigningKey, url: str, fake: DiscordStandIn) -> list[str]:
    tokens: list[str] = []
    async with aiohttp.ClientSession() as session:
        for n in range(ANSWERS):
            member = str(700000000000000000 + n)
            payload = interactions.command(
                APPLICATION_ID,
                "ask",
                [{"name": "prompt", "type": 3, "value": f"Question {n}"}],
                invoker=interactions.user(member, f"member{n}"),
            )
            body = interactions.encode(payload)
            async with session.post(url, data=body, headers=interactions.sign(key, body)) as r:
                answer = await r.json()
            if answer.get("type") != 5:
                raise RuntimeError(f"/ask was not deferred: {answer}")
            tokens.append(payload["token"])
            # AT_ONCE in flight: the next question when an earlier answer has finished.
            while sum(1 for t in tokens if not _done(fake, t)) >= AT_ONCE:
                await asyncio.sleep(0.05)
    return tokens


def _done(fake: DiscordStandIn, token: str) -> bool:
    state = fake.state(token)
    last = [state.original, *state.followups.values()][-1] or {}
    return any(
        c.get("custom_id", "").startswith("answer-more:")
        for row in last.get("components") or []
        for c in row.get("components") or []
    )


async def _finish(fake: DiscordStandIn, tokens: list[str], began: float) -> None:
    while not all(_done(fake, t) for t in tokens):
        if time.monotonic() - began > 600:
            raise RuntimeError("answers did not finish in 10 minutes")
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)


def main() -> int:
    os.environ.update(aws.LOCAL_CREDENTIALS)
    with aws.moto_server() as endpoint:
        results = asyncio.run(run(endpoint))
    for name, value in results.items():
        print(f"{name:<36} {value}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "answers.json").write_text(json.dumps(results, indent=1))
    ok = results["answers_finished"] == ANSWERS and results["schema_violations"] == 0
    print("every answer finished" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
