"""Real parts on loopback: a moto server (its own process) for SQS, a fake Discord REST API
checking every body against Discord's schemas, and our services on real sockets."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import uvicorn
from nacl.signing import SigningKey

from devtools import aws, interactions
from devtools.aws import JobQueues
from devtools.awsfaults import AwsFaults
from devtools.standin import DiscordStandIn
from services.api.app import create_app
from services.api.guard import LIMITS, GuardLimits, server_options
from services.core.bot import Router
from services.core.bot.routes import Defer
from services.core.config import ApiSettings, WorkerSettings
from services.core.discord.interaction import Interaction
from services.core.discord.rest import RetryPolicy
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.core.jobs import Job, JobCodec, SignedBody
from services.worker.__main__ import serve
from services.worker.authenticity import discord_check
from tests.api.commands import router as test_router

APPLICATION_ID = "100000000000000000"
BOT_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.GfakeX.abcdefghijklmnopqrstuvwxyz0123456789AB"
CUSTOM_ID_SECRET = "a key for signed custom_ids in the tests, long enough"
JOB_SIGNING_KEY = "the key that signs jobs on the queue in the tests"
# Discord's key, as far as the tests' API and worker know: made once per test session.
SIGNING_KEY = SigningKey.generate()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    with aws.moto_server() as url:
        saved = {k: os.environ.get(k) for k in (*aws.LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL")}
        os.environ.update(aws.LOCAL_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = url
        yield url
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def queues(moto: str) -> JobQueues:
    return aws.create_job_queues(moto, f"jobs-{uuid.uuid4().hex[:12]}", max_receives=3)


@pytest.fixture
def table(moto: str) -> str:
    return aws.create_table(moto, f"jobs-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def limits_table(moto: str) -> str:
    return aws.create_table(moto, f"limits-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def routed_bus(moto: str) -> tuple[str, str]:
    """A bus whose notifications a rule routes to an SQS queue, as deployed (where the
    target is the scheduler Lambda)."""
    name = f"discord-bot-events-{uuid.uuid4().hex[:8]}"
    return name, aws.create_event_route(moto, name, name)


@pytest.fixture
async def aws_faults(moto: str) -> AsyncIterator[AwsFaults]:
    """A loopback proxy in front of moto that injects AWS's failures, per operation."""
    async with AwsFaults(upstream=moto) as proxy:
        yield proxy


def queue_depth(sqs: Any, url: str) -> int:
    """Messages on a queue, visible or being worked on."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.fixture
def sqs(moto: str) -> Any:
    return aws.client("sqs", moto)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SIGNING_KEY


def signed_job(
    payload: Mapping[str, Any],
    route: str,
    *,
    ephemeral: bool = False,
    defer: Defer = Defer.REPLY,
    received_at: float | None = None,
    key: SigningKey = SIGNING_KEY,
) -> str:
    """A job on the queue as the API writes it: the interaction signed as Discord signs it,
    the envelope signed with the job key."""
    body = interactions.encode(dict(payload))
    headers = interactions.sign(key, body)
    job = Job.for_route(
        Interaction.from_payload(dict(payload)),
        route,
        defer=defer,
        ephemeral=ephemeral,
        received_at=time.time() if received_at is None else received_at,
        signed=SignedBody(body.decode(), headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]),
    )
    return JobCodec(key=JOB_SIGNING_KEY.encode()).encode(job)


def worker_reader() -> JobCodec:
    """Reads jobs as the worker does: both signatures checked."""
    return JobCodec(
        key=JOB_SIGNING_KEY.encode(),
        discord=discord_check(SIGNING_KEY.verify_key.encode(), max_age=15 * 86400),
    )


@pytest.fixture
async def discord() -> AsyncIterator[DiscordStandIn]:
    async with DiscordStandIn(application_id=APPLICATION_ID, bot_token=BOT_TOKEN) as fake:
        yield fake
        assert fake.violations == [], "requests that Discord's schemas refuse"


def run_module(
    module: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the project root, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=None if env is None else dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def base_env(moto: str, queues: JobQueues, discord_url: str, **extra: str) -> dict[str, str]:
    return {
        **aws.LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto,
        "JOBS_QUEUE_URL": queues.url,
        "DISCORD_APPLICATION_ID": APPLICATION_ID,
        "DISCORD_API_URL": discord_url,
        "DISCORD_BOT_TOKEN": BOT_TOKEN,
        "CUSTOM_ID_SECRET": CUSTOM_ID_SECRET,
        "JOB_SIGNING_KEY": JOB_SIGNING_KEY,
        "DISCORD_PUBLIC_KEY": SIGNING_KEY.verify_key.encode().hex(),
        "LOG_FORMAT": "json",
        # Short polls keep each test's worker shutdown short; production polls 20 s.
        "WORKER_POLL_SECONDS": "1",
        **extra,
    }


def api_process_env(
    moto: str, queues: JobQueues, discord_url: str, key: SigningKey, port: int, **extra: str
) -> dict[str, str]:
    """Environment for ``python -m services.api`` on loopback ``port``."""
    return {
        **base_env(moto, queues, discord_url),
        "DISCORD_PUBLIC_KEY": key.verify_key.encode().hex(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **extra,
    }


@dataclass
class Api:
    url: str
    key: SigningKey
    session: aiohttp.ClientSession
    server: uvicorn.Server | None = None

    async def post(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        headers: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        timeout: float = 3.0,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        """POST signed (unless ``headers`` are given); Discord gives up after 3 s, so do we."""
        body = payload if isinstance(payload, bytes) else interactions.encode(dict(payload))
        sent = (
            dict(headers) if headers is not None else interactions.sign(self.key, body, timestamp)
        )
        async with self.session.post(
            self.url + "/interactions",
            data=body,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            data = await response.json(content_type=None)
            return response.status, data, response


@asynccontextmanager
async def serve_api(
    settings: ApiSettings,
    key: SigningKey,
    *,
    router: Router | None = None,
    guard: GuardLimits = LIMITS,
) -> AsyncIterator[Api]:
    """Our Starlette app on a real uvicorn socket, in this event loop."""
    port = aws.free_port()
    config = uvicorn.Config(
        create_app(settings, router=router),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **server_options(guard),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(f"http://127.0.0.1:{port}", key, session, server)
    finally:
        server.should_exit = True
        await task


def api_settings(env: Mapping[str, str], key: SigningKey) -> ApiSettings:
    return ApiSettings.from_environ({**env, "DISCORD_PUBLIC_KEY": key.verify_key.encode().hex()})


@pytest.fixture
async def api(
    moto: str, queues: JobQueues, discord: DiscordStandIn, signing_key: SigningKey
) -> AsyncIterator[Api]:
    env = base_env(moto, queues, discord.url)
    async with serve_api(api_settings(env, signing_key), signing_key) as running:
        yield running


def worker_settings(env: Mapping[str, str]) -> WorkerSettings:
    return WorkerSettings.from_environ(env)


class WorkerProcess:
    """``python -m services.worker`` as a real process, its log kept in a file."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.worker"],
            env=dict(env),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def wait(self, timeout: float) -> int:
        async with asyncio.timeout(timeout):
            while self.process.poll() is None:
                await asyncio.sleep(0.05)
        self._log.close()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcess] = []

    def spawn(env: Mapping[str, str]) -> WorkerProcess:
        worker = WorkerProcess({**os.environ, **env}, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.kill()


FAST_REST = RetryPolicy(base_delay=0.05, max_delay=0.2)


@asynccontextmanager
async def running_worker(
    env, *, router: Router | None = None, tasks=None, grace: float = 5.0
) -> AsyncIterator[asyncio.Event]:
    """The worker's own ``serve()`` in this event loop, against the real queue and fake
    Discord (the REST client's backoff shortened)."""
    settings = replace(worker_settings(env), shutdown_grace=grace)
    stopping = asyncio.Event()
    task = asyncio.create_task(
        serve(settings, stopping, router=router, tasks=tasks, rest_retry=FAST_REST)
    )
    try:
        yield stopping
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def bot(moto, queues, discord, signing_key) -> AsyncIterator[DiscordStandIn]:
    """The shipped bot: API and worker, with the stand-in connected to the API."""
    env = base_env(moto, queues, discord.url)
    async with (
        serve_api(api_settings(env, signing_key), signing_key) as api,
        running_worker(env),
    ):
        discord.connect(api.url + "/interactions", signing_key)
        yield discord


@pytest.fixture
async def test_bot(moto, queues, discord, signing_key) -> AsyncIterator[DiscordStandIn]:
    """The test-only router (tests/api/commands.py), API and worker."""
    env = base_env(moto, queues, discord.url)
    async with (
        serve_api(api_settings(env, signing_key), signing_key, router=test_router) as api,
        running_worker(env, router=test_router),
    ):
        discord.connect(api.url + "/interactions", signing_key)
        yield discord
