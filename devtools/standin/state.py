"""What the stand-in remembers: every request the bot made (``Recorded``), and, as Discord
would, messages with their attachments and each interaction's state (its original message,
the edits and follow-ups the bot sent, the answer the bot gave it).

Messages are edited in place, so every holder of one sees the same message: the interaction
whose original it is, a later interaction whose component it carried (a button click's
``DEFERRED_UPDATE_MESSAGE`` makes it that click's ``@original`` too), a channel's post list.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from devtools.interactions import DEV_CHANNEL_ID
from devtools.standin.multipart import UploadedFile
from services.core.discord.models import MessageFlags

EPHEMERAL: Final = int(MessageFlags.EPHEMERAL)
# The flag of a deferred reply's "thinking…" placeholder; its first edit clears it.
LOADING: Final = int(MessageFlags.LOADING)
# The message type of a slash command's reply (Discord docs, "Message Types").
CHAT_INPUT_COMMAND: Final = 20
# What an upload is when its part names no type (Discord would guess from the name).
DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"
_BOT_AUTHOR: Final[Mapping[str, Any]] = {
    "id": "100000000000000002",
    "username": "bot",
    "global_name": "Bot",
    "bot": True,
}

_ids = itertools.count(int(time.time() * 1000) << 22)


def snowflake() -> str:
    return str(next(_ids))


def now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Recorded:
    """One request the bot made, as it arrived."""

    method: str
    route: str  # "METHOD /path/{template}": never a token
    path: str
    body: Any  # the JSON body, or a multipart body's payload_json
    at: float
    token: str | None = None
    status: int = 0
    files: list[UploadedFile] = field(default_factory=list)  # a multipart body's files[n]


# Where the stand-in's routes find the request's record.
RECORD: Final = web.RequestKey("record", Recorded)


@dataclass
class InteractionState:
    application_id: str
    token: str
    original: dict[str, Any] | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    followups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Edits of the original made later through the channel endpoint, with the bot token.
    bot_edits: list[dict[str, Any]] = field(default_factory=list)
    expired: bool = False
    deleted_followups: set[str] = field(default_factory=set)
    # Set when the stand-in delivered the interaction itself (``DiscordStandIn.interact``).
    interaction: dict[str, Any] | None = None
    response: dict[str, Any] | None = None  # the bot's answer, once applied
    choices: list[Any] | None = None  # an autocomplete answer's choices
    modal: dict[str, Any] | None = None  # a modal answer: custom_id, title, components


class DiscordState:
    """Messages by id, interactions by token, uploaded files by attachment id."""

    def __init__(self, application_id: str) -> None:
        self.application_id = application_id
        self.interactions: dict[str, InteractionState] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        # Message id -> the tokens whose @original it is (its own, and any click's on it).
        self.original_of: dict[str, list[str]] = {}
        self.files: dict[str, UploadedFile] = {}
        # Where the server serves ``files`` (``/_fake/attachments``); set once it listens.
        self.files_url = ""

    def state(self, token: str) -> InteractionState:
        return self.interactions.setdefault(token, InteractionState(self.application_id, token))

    def opened_modal(self, custom_id: Any) -> dict[str, Any] | None:
        """The interaction whose answer was the newest modal with this custom_id."""
        for state in reversed(list(self.interactions.values())):
            if state.modal is not None and state.modal.get("custom_id") == custom_id:
                return state.interaction
        return None

    # -- messages --------------------------------------------------------------------------

    def create(
        self,
        body: Mapping[str, Any],
        *,
        files: Sequence[UploadedFile] = (),
        channel_id: str = DEV_CHANNEL_ID,
        **fields: Any,
    ) -> dict[str, Any]:
        """A new message from a request body (checked beforehand), kept by id."""
        message = _blank(channel_id) | fields
        for key in ("content", "embeds", "components", "flags"):
            if body.get(key) is not None:
                message[key] = body[key]
        message["attachments"] = self._attachments(body.get("attachments"), files, [])
        self.messages[message["id"]] = message
        return message

    def known(self, seen: Mapping[str, Any]) -> dict[str, Any]:
        """The message an interaction payload carries (a component's), as kept here; one the
        stand-in never made (a test's own payload) is kept from now on."""
        kept = self.messages.get(str(seen.get("id")))
        if kept is None:
            kept = _blank(str(seen.get("channel_id", DEV_CHANNEL_ID))) | dict(seen)
            self.messages[kept["id"]] = kept
        return kept

    def edit(
        self,
        message: dict[str, Any],
        body: Mapping[str, Any],
        *,
        files: Sequence[UploadedFile] = (),
    ) -> dict[str, Any]:
        """Apply an edit in place. Without an ``attachments`` key the attachments stay; with
        one, it replaces them: listed existing ids are kept and listed uploads added."""
        for key in ("content", "embeds", "components"):
            if body.get(key) is not None:
                message[key] = body[key]
        # An edit cannot turn a message ephemeral or public (Discord keeps the flag it was
        # created with), and any edit ends a deferred reply's "thinking…": that first edit
        # completes the reply, so Discord does not show it as edited.
        completes = bool(message["flags"] & LOADING)
        flags = body.get("flags")
        changeable = message["flags"] if flags is None else flags
        message["flags"] = (message["flags"] & EPHEMERAL) | (changeable & ~(EPHEMERAL | LOADING))
        if body.get("attachments") is not None:
            message["attachments"] = self._attachments(
                body["attachments"], files, message["attachments"]
            )
        if not completes:
            message["edited_timestamp"] = now()
        return message

    def delete(self, message_id: str) -> None:
        self.messages.pop(message_id, None)
        for token in self.original_of.pop(message_id, []):
            self.state(token).original = None

    def make_original(self, token: str, message: dict[str, Any]) -> None:
        """Make ``message`` what ``/messages/@original`` with ``token`` reads and edits."""
        self.state(token).original = message
        tokens = self.original_of.setdefault(message["id"], [])
        if token not in tokens:
            tokens.append(token)

    @staticmethod
    def attachment_ids(message: Mapping[str, Any] | None) -> set[str]:
        return {str(a.get("id")) for a in (message or {}).get("attachments") or []}

    # -- attachments -----------------------------------------------------------------------

    def _attachments(
        self,
        entries: Any,
        files: Sequence[UploadedFile],
        previous: Sequence[Mapping[str, Any]],
    ) -> list[dict[str, Any]]:
        kept = {str(a["id"]): dict(a) for a in previous}
        uploads = {f.index: f for f in files}
        attachments = []
        for entry in entries or []:
            ident = str(entry.get("id"))
            if ident in kept:
                attachments.append(kept[ident])
            elif ident in uploads:
                attachments.append(self.store_upload(entry, uploads[ident]))
        return attachments

    def store_upload(self, entry: Mapping[str, Any], upload: UploadedFile) -> dict[str, Any]:
        """An attachment object as Discord returns it, its bytes served by the stand-in."""
        ident = snowflake()
        self.files[ident] = upload
        filename = entry.get("filename") or upload.filename or upload.name
        url = f"{self.files_url}/{ident}/{quote(filename)}"
        attachment = {
            "id": ident,
            "filename": filename,
            "size": len(upload.data),
            "content_type": upload.content_type or DEFAULT_CONTENT_TYPE,
            "url": url,
            "proxy_url": url,
        }
        if entry.get("description"):
            attachment["description"] = entry["description"]
        return attachment


def _blank(channel_id: str) -> dict[str, Any]:
    return {
        "id": snowflake(),
        "type": CHAT_INPUT_COMMAND,
        "channel_id": channel_id,
        "content": "",
        "embeds": [],
        "attachments": [],
        "components": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "flags": 0,
        "timestamp": now(),
        "edited_timestamp": None,
        "author": dict(_BOT_AUTHOR),
    }
