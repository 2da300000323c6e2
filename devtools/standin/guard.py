"""Who may use the stand-in's own routes (the sandbox page, ``/_fake/``): this machine's tools
and the page it serves, never another web site the developer happens to have open.

- Every POST carries ``X-Stand-In: 1``. A page of another origin cannot add a header without
  the browser asking the server first (a CORS preflight), which this server never allows, so
  it cannot make the stand-in sign and deliver an interaction (CSRF).
- The ``Host`` must be a loopback name or a single-label one (compose's ``discord``): a page
  whose own domain was rebound to 127.0.0.1 (DNS rebinding) names its domain there, and is
  refused before it can read the state or the event stream.

Discord's routes (``/api/``) are not guarded here: they are what the bot calls, with its
tokens, as it calls Discord.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

HEADER: Final = "X-Stand-In"
HEADERS: Final = {HEADER: "1"}
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_CHANGES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_allowed(host: str | None) -> bool:
    if not host:
        return False
    name = (host[1:].split("]")[0] if host.startswith("[") else host.split(":")[0]).lower()
    return name in _LOOPBACK or (bool(name) and "." not in name)


def refusal(request: web.Request) -> web.Response | None:
    """Why this request to one of the stand-in's own routes is refused, if it is."""
    if not _host_allowed(request.host):
        return web.json_response(
            {"error": "the stand-in answers its own routes on localhost only"}, status=403
        )
    if request.method in _CHANGES and request.headers.get(HEADER) != "1":
        return web.json_response(
            {"error": f"the stand-in's own routes need the {HEADER}: 1 header"}, status=403
        )
    return None
