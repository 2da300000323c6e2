"""A loopback proxy in front of the local AWS endpoint (moto) that injects AWS's failures.

Every request is forwarded to moto unchanged, except those a queued ``Fault`` matches (by
operation name, e.g. ``PutItem``, ``ReceiveMessage``, ``GetParameter``, ``PutEvents``):

    throttle      400 with ``ThrottlingException`` (``ProvisionedThroughputExceededException``
                  for DynamoDB), what AWS answers a client over its rate
    error         500 ``InternalFailure``
    timeout       no answer for ``delay`` seconds (longer than the client waits)
    drop          the connection closed with no answer
    slow          forwarded after ``delay`` seconds, and answered: a call that takes its time
                  (what lets another call land in between, for the tests of races)
    lost          forwarded and done by moto, then the connection closed: the call happened
                  but the client never hears of it (a lost SendMessage answer is a duplicate)
    condition     400 ``ConditionalCheckFailedException`` without asking moto (DynamoDB)

    async with AwsFaults(upstream=moto_url) as aws:
        aws.fail("PutItem", "throttle", times=3)
        client = boto3.client("dynamodb", endpoint_url=aws.url)

``chaos`` (0..1) fails that share of all other calls too, each with a random kind of
``CHAOS_KINDS``: what the soak benchmark runs the whole bot through.

The services' clients use the standard retry mode, so a fault repeated ``times`` beyond
their attempts reaches the code's own ``except`` handlers: that is what the tests exercise,
the way the Discord stand-in injects Discord's failures.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, Self

import aiohttp
from aiohttp import web

from devtools import loopback

KINDS: Final = frozenset({"throttle", "error", "timeout", "drop", "lost", "condition", "slow"})
# What any call may meet; a timeout would only slow a soak down, and a conditional
# failure belongs to conditional writes only.
CHAOS_KINDS: Final = ("throttle", "error", "drop", "lost")
# Not forwarded either way: they describe one hop, not the request.
_HOP_HEADERS: Final = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)


@dataclass
class Fault:
    operation: str
    kind: str
    times: int = 1
    delay: float = 30.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {self.kind!r}")


def operation_of(request: web.Request, body: bytes) -> str:
    """The AWS operation a request calls: ``X-Amz-Target`` for the JSON protocols (DynamoDB,
    SSM, EventBridge, SQS), the ``Action`` form field for the query protocol."""
    target = request.headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    for pair in body.decode(errors="replace").split("&"):
        key, _, value = pair.partition("=")
        if key == "Action":
            return value
    return "?"


def _error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"__type": code, "message": message}).encode(),
        content_type="application/x-amz-json-1.0",
        headers={"x-amzn-ErrorType": code, "x-amzn-query-error": f"{code};Sender"},
    )


class AwsFaults:
    def __init__(
        self,
        *,
        upstream: str,
        host: str = "127.0.0.1",
        port: int = 0,
        chaos: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.chaos = chaos
        self._random = random.Random(seed)
        self._host, self._port = host, port
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def fail(self, operation: str, kind: str, *, times: int = 1, delay: float = 30.0) -> Fault:
        """Fail the next ``times`` calls of ``operation`` this way."""
        fault = Fault(operation, kind, times, delay)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner, self.url = await loopback.serve(app, self._host, self._port)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            if self._runner is not None:
                await self._runner.cleanup()
        finally:
            if self._session is not None:
                await self._session.close()

    def _take(self, operation: str) -> Fault | None:
        fault = next((f for f in self.faults if f.operation == operation), None)
        if fault is None and self.chaos and self._random.random() < self.chaos:
            fault = Fault(operation, self._random.choice(CHAOS_KINDS))
            self.injected[f"{operation}:{fault.kind}"] += 1
            return fault
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            self.injected[f"{operation}:{fault.kind}"] += 1
        return fault

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        operation = operation_of(request, body)
        self.calls[operation] += 1
        fault = self._take(operation)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind != "lost":
            return await self._inject(request, fault, operation)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            data=body,
            headers=headers,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            reply_headers = {
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS
            }
        if fault is not None:  # "lost": done, and the answer never arrives
            return self._drop(request)
        return web.Response(status=upstream.status, body=payload, headers=reply_headers)

    async def _inject(
        self, request: web.Request, fault: Fault, operation: str
    ) -> web.StreamResponse:
        if fault.kind == "throttle":
            code = (
                "ProvisionedThroughputExceededException"
                if request.headers.get("X-Amz-Target", "").startswith("DynamoDB")
                else "ThrottlingException"
            )
            return _error(400, code, f"Rate exceeded ({operation}, injected)")
        if fault.kind == "error":
            return _error(500, "InternalFailure", f"Internal failure ({operation}, injected)")
        if fault.kind == "condition":
            return _error(400, "ConditionalCheckFailedException", "The conditional request failed")
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return _error(500, "InternalFailure", "late answer (injected timeout)")
        return self._drop(request)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    def summary(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "injected": dict(self.injected)}
