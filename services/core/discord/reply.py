"""The reply to one interaction, and its follow-ups, reachable for as long as a job runs.

Discord accepts an interaction token for 15 minutes (then 401, code 50027; Discord docs,
"Receiving and Responding"). A job may run longer, so before the token expires we learn the
reply's message id and channel (from any edit's answer, or by asking for ``@original``), and
afterwards edit that message through the channel endpoint with the bot token, or post a new
channel message when it cannot be edited. Follow-ups are learned as they are sent, so they
too can be edited (or deleted) through the channel afterwards. An ephemeral reply exists only
for the token: past 15 minutes nothing reaches it, and we say so in the log.

For a component whose route defers an update (type 6), the "original" is the message the
component is on: its id is known from the start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

import structlog

from services.core.discord.errors import DiscordHTTPError, ReplyUnreachable, token_expired
from services.core.discord.interaction import Interaction
from services.core.discord.messages import Message

log = structlog.get_logger("discord.reply")

# Discord: "Interaction tokens are valid for 15 minutes". We stop using the token a little
# before, so no request is spent on a certain 401 (those count toward Cloudflare's ban).
TOKEN_LIFETIME: Final = 15 * 60.0
TOKEN_MARGIN: Final = 30.0
# If nothing has told us the message id by then, ask for it.
LEARN_BEFORE_EXPIRY: Final = 120.0
# Channel-route failures that mean "not this message": post a new one instead.
_NOT_EDITABLE: Final = frozenset({403, 404})


class ReplyApi(Protocol):
    async def edit_original(self, token: str, message: Message) -> dict[str, Any]: ...
    async def get_original(self, token: str) -> dict[str, Any]: ...
    async def create_followup(self, token: str, message: Message) -> dict[str, Any]: ...
    async def edit_followup(
        self, token: str, message_id: str, message: Message
    ) -> dict[str, Any]: ...
    async def delete_followup(self, token: str, message_id: str) -> None: ...
    async def edit_channel_message(
        self, channel_id: str, message_id: str, message: Message
    ) -> dict[str, Any]: ...
    async def create_channel_message(self, channel_id: str, message: Message) -> dict[str, Any]: ...
    async def delete_channel_message(self, channel_id: str, message_id: str) -> None: ...


class OriginalReply:
    def __init__(
        self,
        *,
        api: ReplyApi,
        interaction: Interaction,
        received_at: float,
        ephemeral: bool,
        can_use_bot_token: bool,
        message_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._interaction = interaction
        self._expires_at = received_at + TOKEN_LIFETIME - TOKEN_MARGIN
        self._ephemeral = ephemeral
        self._bot = can_use_bot_token
        self._clock = clock
        # The original's id: known at once when it is a component's message, else learned.
        self.message_id: str | None = message_id
        # Whether the job updates the message a component is on, rather than its own reply.
        self.updates_message = message_id is not None
        self.channel_id: str | None = interaction.channel_id
        self._token_dead = False

    @property
    def token_usable(self) -> bool:
        return not self._token_dead and self._clock() < self._expires_at

    def _learn(self, sent: dict[str, Any]) -> None:
        if sent.get("id"):
            self.message_id = str(sent["id"])
        if sent.get("channel_id"):
            self.channel_id = str(sent["channel_id"])

    def _expired(self, exc: DiscordHTTPError) -> bool:
        """Whether a refusal means the token has expired (then the bot token takes over)."""
        if not token_expired(exc):
            return False
        self._token_dead = True
        return True

    async def edit(self, message: Message) -> None:
        if self.token_usable:
            try:
                self._learn(await self._api.edit_original(self._interaction.token, message))
            except DiscordHTTPError as exc:
                if not self._expired(exc):
                    raise
            else:
                return
        await self._edit_with_bot(message)

    async def followup(self, message: Message) -> str | None:
        if self.token_usable:
            try:
                sent = await self._api.create_followup(self._interaction.token, message)
            except DiscordHTTPError as exc:
                if not self._expired(exc):
                    raise
            else:
                return str(sent["id"]) if sent.get("id") else None
        sent = await self._api.create_channel_message(self._check_bot_path(), message)
        log.info("followup_posted_with_bot_token")
        # A follow-up is not the original: later edit() calls still go to the original.
        return str(sent["id"]) if sent.get("id") else None

    async def edit_followup(self, message_id: str, message: Message) -> None:
        if self.token_usable:
            try:
                await self._api.edit_followup(self._interaction.token, message_id, message)
            except DiscordHTTPError as exc:
                if not self._expired(exc):
                    raise
            else:
                return
        await self._api.edit_channel_message(self._check_bot_path(), message_id, message)

    async def delete_followup(self, message_id: str) -> None:
        if self.token_usable:
            try:
                await self._api.delete_followup(self._interaction.token, message_id)
            except DiscordHTTPError as exc:
                if not self._expired(exc):
                    raise
            else:
                return
        await self._api.delete_channel_message(self._check_bot_path(), message_id)

    async def learn_before_expiry(self) -> None:
        """Run beside a job: if no edit told us the message id, ask for it in time."""
        delay = self._expires_at - LEARN_BEFORE_EXPIRY - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)
        if self.message_id is None and self.token_usable:
            try:
                self._learn(await self._api.get_original(self._interaction.token))
            except DiscordHTTPError as exc:
                log.warning("reply_id_unknown", status=exc.status, code=exc.code)

    def _unreachable(self, reason: str) -> ReplyUnreachable:
        log.error("reply_unreachable", reason=reason, interaction_id=self._interaction.id)
        return ReplyUnreachable(reason)

    def _check_bot_path(self) -> str:
        if self._ephemeral:
            raise self._unreachable("ephemeral reply after its token expired")
        if not self._bot:
            raise self._unreachable("token expired and no bot token is configured")
        if self.channel_id is None:
            raise self._unreachable("token expired and the channel is unknown")
        return self.channel_id

    async def _edit_with_bot(self, message: Message) -> None:
        channel_id = self._check_bot_path()
        if self.message_id is not None:
            try:
                await self._api.edit_channel_message(channel_id, self.message_id, message)
            except DiscordHTTPError as exc:
                if exc.status not in _NOT_EDITABLE:
                    raise
                log.warning("reply_not_editable", status=exc.status, code=exc.code)
            else:
                log.info("reply_edited_with_bot_token")
                return
        # The original cannot be edited: a new channel message stands in for it, and later
        # edits go to that one.
        self._learn(await self._api.create_channel_message(channel_id, message))
        log.info("reply_posted_with_bot_token")
