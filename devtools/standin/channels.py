"""The stand-in's bot-token routes: channel messages (post, edit, delete) and the bulk
overwrite of application commands. Each refuses a request without ``Bot <token>`` as Discord
does (401), and checks bodies through the stand-in like every other route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from devtools.standin.refusals import MISSING_ACCESS, NOT_YOUR_MESSAGE, error, unknown_message
from devtools.standin.state import RECORD, snowflake

# Discord docs, "Get Channel Messages": limit is 1-100.
MAX_MESSAGES_READ = 100

if TYPE_CHECKING:
    from devtools.standin.server import DiscordStandIn


class BotRoutes:
    def __init__(self, fake: DiscordStandIn) -> None:
        self._fake = fake

    def add_to(self, router: web.UrlDispatcher, prefix: str) -> None:
        message = prefix + "/channels/{channel_id}/messages/{message_id}"
        router.add_patch(message, self.edit_channel_message)
        router.add_delete(message, self.delete_channel_message)
        router.add_post(prefix + "/channels/{channel_id}/messages", self.post_channel_message)
        router.add_get(prefix + "/channels/{channel_id}/messages", self.channel_messages)
        commands = prefix + "/applications/{application_id}"
        router.add_put(commands + "/commands", self.commands)
        router.add_put(commands + "/guilds/{guild_id}/commands", self.commands)

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        token = self._fake.bot_token
        if not token or request.headers.get("Authorization") != f"Bot {token}":
            return error(401, 0, "401: Unauthorized")
        return None

    def _channel_message(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The bot's message the route names; Discord's refusal otherwise."""
        if self._fake.forbid_channel_edits:
            return error(403, MISSING_ACCESS, "Missing Access")
        message = self._fake.messages.get(request.match_info["message_id"])
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return unknown_message()
        if "webhook_id" in message:  # a channel webhook's post is not the bot's to change
            return error(403, NOT_YOUR_MESSAGE, "Cannot edit a message authored by another user")
        return message

    async def edit_channel_message(self, request: web.Request) -> web.Response:
        fake, record = self._fake, request[RECORD]
        if (refused := self._unauthorised(request)) is not None:
            return refused
        if (refused := fake.check_body("update_message", record.body)) is not None:
            return refused
        message = self._channel_message(request)
        if isinstance(message, web.Response):
            return message
        if (refused := fake.check_uploads(request, message)) is not None:
            return refused
        fake.store.edit(message, record.body, files=record.files)
        for token in fake.store.original_of.get(message["id"], []):
            fake.store.state(token).bot_edits.append(record.body)
        fake.emit("bot_edit", request, message)
        return web.json_response(message)

    async def delete_channel_message(self, request: web.Request) -> web.Response:
        fake = self._fake
        if (refused := self._unauthorised(request)) is not None:
            return refused
        message = self._channel_message(request)
        if isinstance(message, web.Response):
            return message
        for state in fake.interactions.values():
            if message["id"] in state.followups:
                state.deleted_followups.add(message["id"])
        fake.store.delete(message["id"])
        fake.emit("bot_delete", request, message)
        return web.Response(status=204)

    async def post_channel_message(self, request: web.Request) -> web.Response:
        fake, record = self._fake, request[RECORD]
        if (refused := self._unauthorised(request)) is not None:
            return refused
        if (refused := fake.check_body("create_message", record.body)) is not None:
            return refused
        if (refused := fake.check_uploads(request, None)) is not None:
            return refused
        channel_id = request.match_info["channel_id"]
        message = fake.store.create(record.body, files=record.files, channel_id=channel_id, type=0)
        fake.channel_posts.setdefault(channel_id, []).append(message)
        fake.emit("bot_post", request, message)
        return web.json_response(message)

    async def channel_messages(self, request: web.Request) -> web.Response:
        """Discord's "Get Channel Messages": newest first, at most ``limit`` (1-100)."""
        fake = self._fake
        if (refused := self._unauthorised(request)) is not None:
            return refused
        if fake.forbid_channel_reads:
            return error(403, MISSING_ACCESS, "Missing Access")
        raw = request.query.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_MESSAGES_READ:
            return error(400, 50035, "Invalid Form Body", errors={"limit": raw})
        channel = request.match_info["channel_id"]
        found = [m for m in fake.store.messages.values() if m["channel_id"] == channel]
        return web.json_response(list(reversed(found))[: int(raw)])

    async def commands(self, request: web.Request) -> web.Response:
        fake, body = self._fake, request[RECORD].body
        if (refused := self._unauthorised(request)) is not None:
            return refused
        guild = request.match_info.get("guild_id")
        operation = (
            "bulk_set_guild_application_commands" if guild else "bulk_set_application_commands"
        )
        if (refused := fake.check_body(operation, body)) is not None:
            return refused
        stored = [
            {**c, "id": snowflake(), "application_id": fake.application_id, "version": snowflake()}
            for c in body or []
        ]
        fake.commands[guild] = stored
        return web.json_response(stored)
