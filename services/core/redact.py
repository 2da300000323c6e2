"""Keeping secrets out of log lines.

Code never logs a token on purpose: routes are logged as templates and interactions by id.
This is the second line of defence, for what a foreign library puts in an exception message
or a traceback (a URL with an interaction token in its path, say).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

REDACTED: Final = "[redacted]"
SECRET_KEYS: Final = frozenset(
    {"token", "bot_token", "interaction_token", "authorization", "webhook_url", "password"}
)

# One pass finds every token shape we know of.
_SECRET_TEXT: Final = re.compile(
    # Webhook and interaction URLs carry their token as a path segment.
    r"(?P<url>/(?:webhooks|interactions)/[0-9]+/)[^/\s?\"'#]+"
    # Interaction tokens are base64 of "interaction:<id>:..."; caught outside URLs too.
    r"|aW50ZXJhY3Rpb246[A-Za-z0-9_\-.=]+"
    # Bot tokens: three dot-separated base64url parts.
    r"|[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}"
    # Authorization header values.
    r"|(?P<scheme>Bot|Bearer) [A-Za-z0-9_\-.]+"
)
# That pass is slow (a bot token could start anywhere), so look first for what every shape
# contains: a marker substring, or a bot token's ".xxxxxx." middle part.
_MARKERS: Final = ("/webhooks/", "/interactions/", "aW50ZXJhY3Rpb246", "Bot ", "Bearer ")
_BOT_TOKEN_MIDDLE: Final = re.compile(r"\.[A-Za-z0-9_\-]{6,7}\.")


def _replace(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    prefix = match.group("url") or (f"{scheme} " if scheme else "")
    return prefix + REDACTED


def scrub_text(text: str) -> str:
    """Replace anything token-shaped in ``text``."""
    for marker in _MARKERS:
        if marker in text:
            return _SECRET_TEXT.sub(_replace, text)
    if _BOT_TOKEN_MIDDLE.search(text):
        return _SECRET_TEXT.sub(_replace, text)
    return text


def redact_keys(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-sounding key's value replaced."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in SECRET_KEYS else redact_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_keys(v) for v in value]
    return value


_CONTAINERS: Final = (dict, list, tuple)
# The key sets seen so far with no secret-sounding key among them: a service writes a few
# kinds of lines, each with the same keys, and every line passes here.
_PLAIN_KEYS: set[tuple[str, ...]] = set()
_MAX_PLAIN_KEYS: Final = 4096


def redact_secret_keys(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: values under secret-sounding keys never reach the renderer."""
    keys = tuple(event_dict)
    if keys not in _PLAIN_KEYS:
        if any(str(key).lower() in SECRET_KEYS for key in keys):
            for key in keys:
                if str(key).lower() in SECRET_KEYS:
                    event_dict[key] = REDACTED
        elif len(_PLAIN_KEYS) < _MAX_PLAIN_KEYS:
            _PLAIN_KEYS.add(keys)
    for key, value in event_dict.items():
        if type(value) in _CONTAINERS:
            event_dict[key] = redact_keys(value)
    return event_dict


def scrub_rendered(_logger: Any, _method: str, line: str) -> str:
    """structlog processor, after a renderer: token-shaped text anywhere in the line."""
    return scrub_text(line)
