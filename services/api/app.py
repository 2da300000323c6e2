"""Starlette adapter: reads the body (bounded), hands bytes and headers to the interaction
handler, writes its reply. Resources are opened in the lifespan."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypedDict

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.admission import LIMITS_TIMEOUT, Admission
from services.api.deadlines import Deadlines
from services.api.interactions import INSTANT_COMMAND_BUDGET, JSON, InteractionHandler
from services.api.readiness import Readiness
from services.core.bot import Router
from services.core.bot.context import Resources
from services.core.bot.loader import check_custom_id_key, load_bot
from services.core.config import ApiSettings
from services.core.discord.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureVerifier,
)
from services.core.jobs import JobCodec
from services.core.limits import open_limits
from services.core.llm.runtime import open_llm
from services.core.logs import flush_logs
from services.core.queue import JobQueue, sqs_client

log = structlog.get_logger("api.app")

# Interaction payloads are a few KiB; resolved data for a large select stays far below this.
MAX_BODY_BYTES: Final = 256 * 1024


class State(TypedDict):
    handler: InteractionHandler
    readiness: Readiness


class BodyTooLarge(Exception):  # noqa: N818
    pass


class ClientGone(Exception):  # noqa: N818
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # Gone before the body was in (or closed as too slow): nothing to answer.
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_SIGNATURE: Final = SIGNATURE_HEADER.encode()
_TIMESTAMP: Final = TIMESTAMP_HEADER.encode()


async def interactions_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /interactions as plain ASGI: extract the body and the two signature headers,
    call the handler, write its reply. This is the hot path; a Request and a Response object
    per call would cost more than the signature check itself."""
    if scope["method"] != "POST":
        await _respond(send, 405, b'{"error":"method not allowed"}', JSON)
        return
    signature = timestamp = None
    for name, value in scope["headers"]:
        if name == _SIGNATURE:
            signature = value.decode("latin-1")
        elif name == _TIMESTAMP:
            timestamp = value.decode("latin-1")
        elif name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY_BYTES):
            await _respond(send, 413, b'{"error":"request body too large"}', JSON)
            return
    try:
        body = await _read_body(receive)
    except BodyTooLarge:
        await _respond(send, 413, b'{"error":"request body too large"}', JSON)
        return
    except ClientGone:
        return
    handler: InteractionHandler = scope["state"]["handler"]
    reply = await handler.handle(body, signature=signature, timestamp=timestamp)
    await _respond(send, reply.status, reply.body, reply.content_type)


class _Dispatch:
    """Sends ``/interactions`` straight to its endpoint and everything else (``/healthz``,
    the lifespan) through Starlette, whose middleware would add a tenth to every request."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/interactions":
            await interactions_endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def healthz(_request: Request) -> Response:
    """Liveness: the process answers. The load balancer's health check (see readiness.py)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the jobs queue answers too, so long commands can start."""
    readiness: Readiness = request.state.readiness
    if await readiness.problem() is None:
        return JSONResponse({"status": "ready", "queue": "reachable"})
    # The reason (an AWS error code) is in the log: this path is as public as the API.
    return JSONResponse({"status": "not ready", "queue": "unreachable"}, status_code=503)


def create_app(
    settings: ApiSettings,
    *,
    router: Router | None = None,
    clock: Callable[[], float] = time.time,
) -> ASGIApp:
    """The ASGI app. ``router`` defaults to the bot's own (``services.commands``). Raises
    ``ConfigError`` if the bot signs custom_ids and no key is set."""
    chosen = router if router is not None else load_bot().router
    check_custom_id_key(chosen, settings.discord)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[Any]:
        # botocore retries only once: the enqueue budget, not retries, bounds the wait.
        async with (
            sqs_client(
                settings.aws,
                connect_timeout=settings.enqueue_timeout,
                read_timeout=settings.enqueue_timeout,
                max_attempts=2,
            ) as sqs,
            Deadlines(INSTANT_COMMAND_BUDGET) as deadlines,
            # One attempt per call: the check has half a second (LIMITS_TIMEOUT, which
            # decides; the client's own timeouts only bound a call), and botocore's backoff
            # before a retry (up to 1 s) would spend it all; a throttled table lets it run.
            open_limits(
                settings.limits, settings.aws, timeout=2 * LIMITS_TIMEOUT, max_attempts=1
            ) as limits,
            # The model's table (budgets, answers in flight, Stop flags); never the model.
            open_llm(
                settings.llm,
                settings.aws,
                with_provider=False,
                table_timeout=2 * LIMITS_TIMEOUT,
                table_attempts=1,
            ) as llm,
        ):
            queue = JobQueue(
                codec=JobCodec(key=settings.jobs.key_bytes),
                client=sqs,
                queue_url=settings.aws.jobs_queue_url,
                timeout=settings.enqueue_timeout,
            )
            problem = await queue.warm_up()
            if problem is not None:
                log.warning("jobs_queue_unreachable", reason=problem)
            verifier = SignatureVerifier(
                settings.public_key, window=settings.replay_window, clock=clock
            )
            handler = InteractionHandler(
                verifier=verifier,
                router=chosen,
                queue=queue,
                deadlines=deadlines,
                custom_id_key=settings.discord.custom_id_key,
                admission=Admission(limits=limits, llm=llm),
                resources=Resources(llm=llm),
                clock=clock,
            )
            # Everything loaded so far (botocore's service models above all) lives as long as
            # the process: keep it out of the collector's scans, which otherwise cost every
            # request a share of a full-heap traversal.
            gc.collect()
            gc.freeze()
            try:
                yield State(handler=handler, readiness=Readiness(queue.warm_up))
            finally:
                flush_logs()

    return _Dispatch(
        Starlette(
            routes=[
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", readyz, methods=["GET"]),
            ],
            lifespan=lifespan,
        )
    )
