"""Starlette adapter: reads the body (bounded), hands bytes and headers to the interaction
handler, writes its reply. Resources are opened in the lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.api.interactions import InteractionHandler
from services.core.bot import Registry
from services.core.config import ApiSettings
from services.core.discord.signature import SignatureVerifier
from services.core.queue import JobQueue, sqs_client

# Interaction payloads are a few KiB; resolved data for a large select stays far below this.
MAX_BODY_BYTES: Final = 256 * 1024


class State(TypedDict):
    handler: InteractionHandler


class BodyTooLarge(Exception):  # noqa: N818
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def interactions(request: Request) -> Response:
    try:
        body = await _read_body(request)
    except BodyTooLarge:
        return JSONResponse({"error": "request body too large"}, status_code=413)
    handler: InteractionHandler = request.state.handler
    reply = await handler.handle(body, request.headers)
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: ApiSettings,
    *,
    registry: Registry | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The ASGI app. ``registry`` defaults to the bot's commands (``services.commands``)."""
    if registry is None:
        from services.commands import bot  # noqa: PLC0415 - the bot is chosen at start-up

        registry = bot
    chosen: Registry = registry

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[Any]:
        # botocore retries only once: the enqueue budget, not retries, bounds the wait.
        async with sqs_client(
            settings.aws,
            connect_timeout=settings.enqueue_timeout,
            read_timeout=settings.enqueue_timeout,
            max_attempts=2,
        ) as sqs:
            queue = JobQueue(
                client=sqs,
                queue_url=settings.aws.jobs_queue_url,
                timeout=settings.enqueue_timeout,
            )
            verifier = SignatureVerifier(
                settings.public_key, window=settings.replay_window, clock=clock
            )
            handler = InteractionHandler(
                verifier=verifier, registry=chosen, queue=queue, clock=clock
            )
            yield State(handler=handler)

    return Starlette(
        routes=[
            Route("/interactions", interactions, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
