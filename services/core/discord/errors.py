"""Errors about Discord: what it sent us, and what it answered.

DiscordError
├── InvalidSignature       a request to our endpoint is not signed by Discord (-> 401)
├── MalformedInteraction   signed, but not an interaction we can read (-> 400)
├── InvalidComponent       a component, modal or message Discord would refuse (also ValueError)
├── ReplyUnreachable       a job's reply can no longer be delivered (ephemeral past its token)
└── DiscordHTTPError       Discord's REST API refused a request
    ├── RateLimitedError   429 that we gave up waiting on
    │   └── RequestsSuspended   not sent: too many refusals lately (Cloudflare's ban is near)
    └── ServerError        5xx or connection failure after the retries ran out
"""

from __future__ import annotations

from typing import Any


class DiscordError(Exception):
    """Base for errors about Discord."""


class InvalidSignature(DiscordError):  # noqa: N818 - reads as what it is
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid request signature: {reason}")


class MalformedInteraction(DiscordError):  # noqa: N818
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed interaction: {reason}")


class InvalidComponent(DiscordError, ValueError):  # noqa: N818
    """Raised where the component is built, naming what is wrong."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class DiscordHTTPError(DiscordError):
    """A REST call failed. ``route`` is a template (no token in it); ``code`` is Discord's
    JSON error code (0 when the body had none)."""

    def __init__(
        self,
        *,
        route: str,
        status: int,
        code: int = 0,
        message: str = "",
        errors: Any = None,
    ) -> None:
        self.route = route
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        super().__init__(f"{route} -> {status} (code {code}): {message}")


# Discord's JSON error code for an interaction token past its 15 minutes.
INVALID_WEBHOOK_TOKEN = 50027


def token_expired(exc: DiscordHTTPError) -> bool:
    return exc.status == 401 and exc.code == INVALID_WEBHOOK_TOKEN


class RateLimitedError(DiscordHTTPError):
    def __init__(self, *, route: str, retry_after: float, is_global: bool) -> None:
        self.retry_after = retry_after
        self.is_global = is_global
        super().__init__(route=route, status=429, message=f"rate limited for {retry_after:.2f}s")


class RequestsSuspended(RateLimitedError):  # noqa: N818
    """Not sent at all: recent 401/403/429 answers near Discord's invalid-request ban."""

    def __init__(self, *, route: str, retry_after: float) -> None:
        super().__init__(route=route, retry_after=retry_after, is_global=True)
        self.status = 0
        self.message = f"requests suspended for {retry_after:.0f}s after repeated refusals"


class ServerError(DiscordHTTPError):
    """5xx, or no answer at all (``status`` 0), after every retry."""


class ReplyUnreachable(DiscordError):  # noqa: N818
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the reply cannot be delivered: {reason}")
