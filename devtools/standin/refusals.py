"""What the stand-in answers instead of a message: Discord's error bodies with their codes,
and the faults a test queues (``DiscordStandIn.fail``) or chaos draws at random."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# Discord's JSON error codes (Discord docs, "Opcodes and Status Codes").
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
REQUEST_TOO_LARGE = 40005
MISSING_ACCESS = 50001
NOT_YOUR_MESSAGE = 50005
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109


@dataclass
class Fault:
    """What to do instead of answering normally, for the next ``times`` matching requests."""

    status: int = 500
    times: int = 1
    retry_after: float = 0.1
    is_global: bool = False
    scope: str = "user"
    delay: float = 0.0
    route: str | None = None  # a substring of "METHOD /path template"

    def matches(self, key: str) -> bool:
        return self.route is None or self.route in key


def random_fault(rng: random.Random) -> Fault:
    """One of the failures Discord really gives, for a chaos run."""
    return rng.choice(
        [
            Fault(status=429, retry_after=round(rng.uniform(0.05, 0.3), 3)),
            Fault(status=429, retry_after=0.1, is_global=True, scope="global"),
            Fault(status=500),
            Fault(status=502),
            Fault(status=503),
            Fault(status=200, delay=round(rng.uniform(0.2, 1.0), 3)),
        ]
    )


def error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status)


def invalid_form_body(problems: list[str]) -> web.Response:
    return error(400, INVALID_FORM_BODY, "Invalid Form Body", errors=problems)


def unknown_message() -> web.Response:
    return error(404, UNKNOWN_MESSAGE, "Unknown Message")


def rate_limited(fault: Fault) -> web.Response:
    headers = {
        "Retry-After": str(max(1, round(fault.retry_after))),
        "X-RateLimit-Scope": fault.scope,
    }
    if fault.is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(fault.retry_after)}
        )
    return web.json_response(
        {
            "message": "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": fault.is_global,
            "code": 0,
        },
        status=429,
        headers=headers,
    )
