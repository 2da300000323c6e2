"""structlog set-up, once per process, and the scrubber that keeps secrets out of every line.

Code never logs a token on purpose: routes are logged as templates and interactions by id.
The scrubber is the second line of defence, for what a foreign library puts in an exception
message or a traceback (a URL with an interaction token in its path, say).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Final, TextIO

import structlog

from services.core.config import LogSettings

REDACTED: Final = "[redacted]"
_SECRET_KEYS: Final = frozenset(
    {"token", "bot_token", "interaction_token", "authorization", "webhook_url", "password"}
)
_SECRET_PATTERNS: Final = (
    # Webhook and interaction URLs carry their token as a path segment.
    (re.compile(r"(/(?:webhooks|interactions)/[0-9]+/)[^/\s?\"'#]+"), r"\1" + REDACTED),
    # Interaction tokens are base64 of "interaction:<id>:..."; catch them outside URLs too.
    (re.compile(r"aW50ZXJhY3Rpb246[A-Za-z0-9_\-.=]+"), REDACTED),
    # Bot tokens: three dot-separated base64url parts.
    (re.compile(r"[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}"), REDACTED),
    (re.compile(r"(Bot|Bearer) [A-Za-z0-9_\-.]+"), r"\1 " + REDACTED),
)


def scrub_text(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in _SECRET_KEYS else _scrub_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def scrub_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact secret-named keys and token-shaped text in every value."""
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub_value(event_dict[key])
    return event_dict


def configure_logging(settings: LogSettings, *, stream: TextIO | None = None) -> None:
    """Configure structlog (and route stdlib logging through the same scrubber)."""
    level = logging.getLevelNamesMapping()[settings.level]
    renderer: Any
    if settings.format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        exc: list[Any] = []
    else:
        renderer = structlog.processors.JSONRenderer()
        exc = [structlog.processors.format_exc_info]
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *exc,
        scrub_secrets,
        renderer,
    ]
    out = stream or sys.stdout
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    # Libraries (uvicorn, aiohttp, botocore) log through stdlib logging: same format, same scrub.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *exc,
                scrub_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.INFO))
