"""The sandbox's HTTP side, on the stand-in's own server: the page and its files, the state it
starts from, a live stream of what happens (server-sent events), and what its user does.

    GET  /                        the page (``static/index.html``)
    GET  /_sandbox/static/...     its CSS and JavaScript
    GET  /_sandbox/state          commands, people, channels, messages, scheduled tasks
    GET  /_sandbox/events         every message the bot sends or edits, as it happens
    POST /_sandbox/interactions   run a command, click, submit a form... (``payloads.py``)
    POST /_sandbox/messages       a message typed by the page's user
    POST /_sandbox/files          a file the user attaches to a command option
    POST /_sandbox/fire           a scheduled task, or a notification, as EventBridge sends it
    POST /_sandbox/clear          forget a channel's messages

The stand-in refuses these routes to other sites (``devtools/standin/guard.py``): every POST
needs its ``X-Stand-In`` header, and the Host must be this machine.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from aiohttp import web

from devtools.sandbox.errors import BadRequestError
from devtools.sandbox.payloads import CHANNELS, PEOPLE, build, person
from devtools.standin.delivery import NotConnectedError
from devtools.standin.multipart import read_upload, upload_too_large

if TYPE_CHECKING:
    from devtools.standin.server import DiscordStandIn
    from devtools.standin.state import Recorded

PREFIX: Final = "/_sandbox"
STATIC: Final = Path(__file__).resolve().parent / "static"
# A page that stops reading its stream is dropped rather than buffered without end.
QUEUED_EVENTS: Final = 2000
# Comments on an idle stream, so a proxy or the browser never takes it for dead.
KEEPALIVE_SECONDS: Final = 15.0
# The page's own files may come only from here: no CDN, nothing inline, no other site.
PAGE_POLICY: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class Scheduler(Protocol):
    """What the page's scheduler buttons call (``devtools.fire``'s, for ``make run``)."""

    @property
    def tasks(self) -> Sequence[str]: ...

    async def fire(self, task: str) -> str: ...

    async def notify(self, content: str, guild_id: str | None) -> str: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Sandbox:
    def __init__(self, fake: DiscordStandIn) -> None:
        self._fake = fake
        # Each open page's queue of events, and the task writing them to it.
        self._streams: dict[asyncio.Queue[str], asyncio.Task[Any]] = {}
        # Files the page attached, by attachment id, for the commands that name them.
        self._attachments: dict[str, dict[str, Any]] = {}
        fake.listeners.append(self._on_event)

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/", self._page)
        app.router.add_static(PREFIX + "/static", STATIC)
        app.router.add_get(PREFIX + "/state", self._state)
        app.router.add_get(PREFIX + "/events", self._events)
        for name, handler in (
            ("interactions", self._interact),
            ("messages", self._message),
            ("files", self._file),
            ("fire", self._fire),
            ("clear", self._clear),
        ):
            app.router.add_post(f"{PREFIX}/{name}", _guarded(handler))
        app.on_shutdown.append(self._close_streams)

    # -- what the page reads ---------------------------------------------------------------

    async def _page(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"},
        )

    def _commands(self) -> tuple[list[dict[str, Any]], bool]:
        """The commands Discord's client would offer: the registered ones; before any are
        registered (compose's stand-in), the bot's own declaration, as registering would send."""
        registered = [c for commands in self._fake.commands.values() for c in commands]
        if registered:
            return registered, True
        from services.core.bot.loader import load_bot

        return load_bot().router.to_discord(), False

    async def _state(self, _request: web.Request) -> web.Response:
        commands, registered = self._commands()
        scheduler = self._fake.scheduler
        return web.json_response(
            {
                "application_id": self._fake.application_id,
                "commands": commands,
                "registered": registered,
                "people": [p.describe() for p in PEOPLE.values()],
                "channels": CHANNELS,
                "messages": list(self._fake.messages.values()),
                "tasks": list(scheduler.tasks) if scheduler is not None else [],
                "scheduler": scheduler is not None,
                "connected": self._fake.connected,
            }
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUED_EVENTS)
        task = asyncio.current_task()
        assert task is not None
        self._streams[queue] = task
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        event = await queue.get()
                except TimeoutError:
                    await response.write(b": idle\n\n")
                    continue
                await response.write(f"data: {event}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self._streams.pop(queue, None)
        return response

    def _on_event(self, kind: str, record: Recorded, message: dict[str, Any] | None) -> None:
        """Everything the stand-in saw, to every open page: the message as it is now, and the
        request that changed it (for the inspector)."""
        if not self._streams:
            return  # no page open: nothing to encode (the tests and benchmarks open none)
        interaction = self._fake.store.interactions.get(record.token or "")
        event = {
            "kind": kind,
            "message": message,
            "route": record.route,
            "status": record.status,
            "body": record.body,
            "interaction_id": ((interaction and interaction.interaction) or {}).get("id"),
            "at": time.time(),
        }
        self._broadcast(event)

    def _broadcast(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":"), default=str)
        for queue, task in list(self._streams.items()):
            try:
                queue.put_nowait(line)
            except asyncio.QueueFull:
                # A page this far behind (or not reading at all) gets its stream closed: the
                # browser reconnects and the page reads the state afresh, missing nothing.
                self._streams.pop(queue, None)
                task.cancel()

    async def _close_streams(self, _app: web.Application) -> None:
        """Streams never end on their own: shutting down ends them, read or not."""
        for task in list(self._streams.values()):
            task.cancel()
        self._streams.clear()

    # -- what the page does ----------------------------------------------------------------

    async def _interact(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        payload = build(
            asked,
            application_id=self._fake.application_id,
            store=self._fake.store,
            attachments=self._attachments,
        )
        try:
            result = await self._fake.interact(payload)
        except NotConnectedError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"payload": payload, "result": result.summary()})

    async def _message(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        who = person(asked.get("as"))
        content = asked.get("content")
        if not isinstance(content, str) or not content.strip():
            raise BadRequestError("content", "the message's text is required")
        message = self._fake.user_message(content, channel_id=who.channel_id, author=who.user)
        return web.json_response(message)

    async def _file(self, request: web.Request) -> web.Response:
        filename = request.query.get("filename") or "file"
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        data = await read_upload(request)
        if data is None:
            return upload_too_large(filename)
        attachment = self._fake.host_file(filename, data, content_type)
        self._attachments[attachment["id"]] = attachment
        return web.json_response(attachment)

    async def _fire(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        scheduler = self._fake.scheduler
        if scheduler is None:
            return web.json_response(
                {"error": "no scheduler here: `make run` starts one"}, status=409
            )
        if isinstance(asked.get("notify"), str) and asked["notify"].strip():
            guild = asked.get("guild_id")
            sent = await scheduler.notify(
                asked["notify"], guild if isinstance(guild, str) else None
            )
            return web.json_response({"notification": sent})
        task = asked.get("task")
        if not isinstance(task, str) or task not in scheduler.tasks:
            raise BadRequestError("task", f"one of {', '.join(scheduler.tasks)}, or notify: TEXT")
        return web.json_response({"task": await scheduler.fire(task)})

    async def _clear(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        channel = asked.get("channel_id")
        gone = [m for m in self._fake.messages.values() if m["channel_id"] == channel]
        for message in gone:
            self._fake.store.delete(message["id"])
        self._broadcast({"kind": "clear", "channel_id": channel, "at": time.time()})
        return web.json_response({"deleted": len(gone)})


def _guarded(handler: Handler) -> Handler:
    """Say what is wrong with a bad request, as a 400 the page shows."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequestError as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return guarded


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
        body = None
    if not isinstance(body, dict):
        raise BadRequestError("(body)", "must be a JSON object")
    return body
