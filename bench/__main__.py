"""``make bench``: throughput of one API process against a raw-ASGI baseline, and the latency
of a deferred acknowledgement with the local queue.

Method: the server runs pinned to CPU 0, the load generator (wrk) pinned to CPU 1, so the
two never compete. Each throughput figure is the median of ROUNDS runs, baseline and API
alternating, so drift on the machine affects both alike. Every response is checked: a run
with any non-2xx answer is an error, not a number.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from devtools import aws, interactions
from services.core.config import AwsSettings
from services.core.queue import sqs_client

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_ID = "100000000000000001"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "12"))
DURATION = os.environ.get("BENCH_DURATION", "3s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ACK_REQUESTS = int(os.environ.get("BENCH_ACK_REQUESTS", "500"))
SERVER_CPU, LOAD_CPU = "0", "1"


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") and os.cpu_count() > 1 else argv


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int):
    process = subprocess.Popen(
        pinned(SERVER_CPU, argv),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        aws.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(
    url: str, body: bytes, headers: dict[str, str], duration: str = DURATION
) -> dict[str, float]:
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{body.decode()}]==]"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            pinned(
                LOAD_CPU,
                [
                    "wrk",
                    "-t1",
                    f"-c{CONNECTIONS}",
                    f"-d{duration}",
                    "--latency",
                    "-s",
                    script.name,
                    url,
                ],
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"the load run had failures, not counting it:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps}


def throughput(key: SigningKey, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Both servers run side by side on the same CPU; short runs alternate between them, so
    each API run has a baseline run seconds before it, and drift on the machine (this one is
    shared) affects both alike. The figure is the median of those pairwise ratios."""
    public = key.verify_key.encode().hex()
    port_base, port_api = aws.free_port(), aws.free_port()
    ping = interactions.encode(interactions.ping(APPLICATION_ID))
    command = interactions.encode(interactions.command(APPLICATION_ID, "ping"))
    runs: dict[str, list[float]] = {"baseline_ping": [], "api_ping": [], "api_command": []}
    api_env = {**env, "DISCORD_PUBLIC_KEY": public, "HOST": "127.0.0.1", "PORT": str(port_api)}
    base_url = f"http://127.0.0.1:{port_base}/"
    api_url = f"http://127.0.0.1:{port_api}/interactions"
    ratios: list[float] = []
    with (
        server([sys.executable, "-m", "bench.baseline", str(port_base), public], env, port_base),
        server([sys.executable, "-m", "services.api"], api_env, port_api),
    ):
        for _ in range(ROUNDS):
            # Signed afresh each round: the replay window is part of what the API checks.
            ping_headers = interactions.sign(key, ping)
            command_headers = interactions.sign(key, command)
            runs["baseline_ping"].append(wrk(base_url, ping, ping_headers)["rps"])
            runs["api_ping"].append(wrk(api_url, ping, ping_headers)["rps"])
            runs["api_command"].append(wrk(api_url, command, command_headers)["rps"])
            ratios.append(runs["api_ping"][-1] / runs["baseline_ping"][-1])
    out: dict[str, dict[str, Any]] = {
        name: {"median_rps": statistics.median(v), "runs": v} for name, v in runs.items()
    }
    out["ping_ratio"] = {"median": statistics.median(ratios), "runs": ratios}
    return out


async def _timed(concurrency: int, one: Any) -> list[float]:
    """Run ``one()`` ACK_REQUESTS times from ``concurrency`` clients; each call's latency."""
    latencies: list[float] = []
    todo = ACK_REQUESTS

    async def client() -> None:
        nonlocal todo
        while todo > 0:
            todo -= 1
            started = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


async def _api_acks(url: str, key: SigningKey, concurrency: int) -> dict[str, Any]:
    """Latencies of the deferred acks, and how many requests got anything else: under load
    the local queue (moto) sometimes times out, and the API then answers that the command
    couldn't start: counted and reported, not hidden."""
    refused: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            # A member of a server, each request another, as a busy bot sees them (so the
            # limits, when on, count and never refuse).
            member = interactions.snowflake()
            payload = interactions.command(
                APPLICATION_ID,
                "countdown",
                [{"name": "seconds", "type": 4, "value": 1}],
                guild_id=interactions.snowflake(),
                invoker=interactions.user(member, "member"),
            )
            body = interactions.encode(payload)
            async with session.post(url, data=body, headers=interactions.sign(key, body)) as r:
                answer = await r.json()
            if answer.get("type") != 5:
                refused.append(answer)

        summary = _summary(await _timed(concurrency, one))
    summary["not_deferred"] = len(refused)
    if refused:
        summary["first_not_deferred"] = refused[0]
    return summary


async def _direct_sends(endpoint: str, queue_url: str, concurrency: int) -> list[float]:
    """The floor: SQS SendMessage of a job-sized body, straight from a client."""
    settings = AwsSettings(region=aws.LOCAL_REGION, endpoint_url=endpoint, jobs_queue_url=queue_url)
    body = interactions.encode(interactions.command(APPLICATION_ID, "countdown")).decode()
    async with sqs_client(settings, connect_timeout=5, read_timeout=5, max_attempts=1) as sqs:

        async def one() -> None:
            await sqs.send_message(QueueUrl=queue_url, MessageBody=body)

        return await _timed(concurrency, one)


def _summary(samples: list[float]) -> dict[str, Any]:
    samples = sorted(samples)
    return {
        "requests": len(samples),
        "p50_ms": round(samples[len(samples) // 2] * 1000, 2),
        "p99_ms": round(samples[max(0, int(len(samples) * 0.99) - 1)] * 1000, 2),
    }


def ack_latency(key: SigningKey, env: dict[str, str], endpoint: str) -> dict[str, Any]:
    """Deferred ack latency through the API, against the same SQS send made directly: the
    local queue (moto) is slow and its speed is not ours, so the figure that matters is what
    the API adds to it. Fresh queues for every measurement, as moto slows as a queue grows."""
    os.environ.update(aws.LOCAL_CREDENTIALS)
    out: dict[str, Any] = {}
    for concurrency in (1, 8):
        stamp = f"{int(time.time() * 1000)}-{concurrency}"
        direct_queue = aws.create_job_queues(endpoint, f"bench-direct-{stamp}").url
        port = aws.free_port()
        api_env = {
            **env,
            "DISCORD_PUBLIC_KEY": key.verify_key.encode().hex(),
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
        direct = _summary(asyncio.run(_direct_sends(endpoint, direct_queue, concurrency)))
        measured: dict[str, Any] = {"direct_send": direct}
        # As deployed, the per-user and per-server limits count each long job in DynamoDB
        # before it is queued: measured with them and without.
        limits = aws.create_table(endpoint, f"bench-limits-{stamp}")
        for name, extra in (("api_ack", {}), ("api_ack_limits", {"LIMITS_TABLE": limits})):
            # A fresh queue each time: moto slows as a queue grows.
            extra["JOBS_QUEUE_URL"] = aws.create_job_queues(endpoint, f"bench-{name}-{stamp}").url
            with server([sys.executable, "-m", "services.api"], {**api_env, **extra}, port):
                url = f"http://127.0.0.1:{port}/interactions"
                measured[name] = asyncio.run(_api_acks(url, key, concurrency))
        out[f"concurrency_{concurrency}"] = measured
    return out


def machine() -> dict[str, str]:
    model = "unknown"
    with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def main() -> int:
    if not shutil.which("wrk"):
        print("make bench needs wrk (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    key = SigningKey.generate()
    with aws.moto_server() as endpoint:
        queues = aws.create_job_queues(endpoint, "bench-throughput")
        env = aws.process_env(
            endpoint,
            JOBS_QUEUE_URL=queues.url,
            DISCORD_APPLICATION_ID=APPLICATION_ID,
            JOB_SIGNING_KEY=secrets.token_urlsafe(32),
            CUSTOM_ID_SECRET=secrets.token_urlsafe(32),
            LOG_LEVEL="INFO",
            LOG_FORMAT="json",
        )
        results = {
            "machine": machine(),
            "throughput": throughput(key, env),
            "deferred_ack": ack_latency(key, env, endpoint),
        }
    t = results["throughput"]
    base = t["baseline_ping"]["median_rps"]
    print(
        f"\nmachine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"Python {results['machine']['python']}"
    )
    print(
        f"wrk: 1 thread, {CONNECTIONS} connections, {ROUNDS} alternating runs of {DURATION} "
        "per server; servers on CPU 0, load on CPU 1\n"
    )
    print(f"{'signed request':<34}{'req/s (median)':>16}{'vs baseline':>14}")
    for name, label in (
        ("baseline_ping", "PING, raw ASGI + verify (baseline)"),
        ("api_ping", "PING, our API"),
        ("api_command", "/ping command, our API"),
    ):
        rps = t[name]["median_rps"]
        print(f"{label:<34}{rps:>16.0f}{rps / base:>13.2f}x")
    header = f"{'deferred ack (/countdown), local SQS':<46}{'p50 ms':>10}{'p99 ms':>10}"
    print(f"\n{header}{'not deferred':>14}")
    for name, r in results["deferred_ack"].items():
        level = name.replace("_", " ")
        for kind, label in (
            ("api_ack", "signed request -> type 5"),
            ("api_ack_limits", "... with the limits on"),
            ("direct_send", "SendMessage alone"),
        ):
            row = f"{level}, {label}"
            other = r[kind].get("not_deferred", "")
            print(f"{row:<46}{r[kind]['p50_ms']:>10}{r[kind]['p99_ms']:>10}{other:>14}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1))
    ratio = t["ping_ratio"]["median"]
    spread = ", ".join(f"{r:.2f}" for r in t["ping_ratio"]["runs"])
    print(f"\nsigned PING, API / baseline, median of per-round ratios: {ratio:.2f} ({spread})")
    print(f"target >= 0.85: {'met' if ratio >= 0.85 else 'NOT met'}")
    command = t["api_command"]["median_rps"] / base
    print(f"/ping, API / baseline PING, median req/s: {command:.2f}")
    print(f"target >= 0.75: {'met' if command >= 0.75 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
