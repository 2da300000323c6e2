"""Messages we send: interaction replies, edits, follow-ups, channel and webhook posts.

A ``Message`` is the whole of what the user should see: an edit replaces the content, the
embeds and the components (an edit without components removes the buttons); an edit with
files replaces the message's attachments with them, and one without files keeps the
attachments already there. Files go as
``multipart/form-data`` (Discord docs, "Uploading Files"): ``payload()`` names them in
``attachments`` and ``files`` holds their bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from services.core.discord.components import ActionRow, RowItem, layout
from services.core.discord.errors import InvalidComponent
from services.core.discord.models import MessageFlags

# Discord docs, "Message Resource" and "Embed Limits".
MAX_CONTENT_LENGTH: Final = 2000
MAX_EMBEDS: Final = 10
MAX_FILES: Final = 10
MAX_EMBED_TOTAL: Final = 6000
MAX_EMBED_TITLE: Final = 256
MAX_EMBED_DESCRIPTION: Final = 4096
MAX_EMBED_FIELDS: Final = 25
MAX_FIELD_NAME: Final = 256
MAX_FIELD_VALUE: Final = 1024
MAX_FOOTER: Final = 2048

# Who a message may ping. Discord's default for interaction replies is users only; we say it
# explicitly so text from users can never ping @everyone or a role through us.
MENTION_USERS: Final[Mapping[str, Any]] = {"parse": ["users"]}
# Nobody at all: for text we quote back or did not write ourselves.
MENTION_NONE: Final[Mapping[str, Any]] = {"parse": []}


_MARKDOWN: Final = str.maketrans({c: "\\" + c for c in "\\*_~`|>#-[]()"})


def escape_markdown(text: str) -> str:
    """Text shown as written: Discord's markdown characters escaped."""
    return text.translate(_MARKDOWN)


def truncate(text: str, limit: int = MAX_CONTENT_LENGTH) -> str:
    """Cut text to Discord's limit, marking the cut, rather than have Discord refuse it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EPHEMERAL: Final = int(MessageFlags.EPHEMERAL)


def text_payload(
    content: str | None, *, ephemeral: bool = False, mentions: Mapping[str, Any] = MENTION_USERS
) -> dict[str, Any]:
    """The body of a message with text only: what ``Message.payload`` starts from, and what
    the API answers for a handler that returned a ``str`` (no ``Message`` to build on the
    hot path). Empty lists are sent, not left out: an edit replaces embeds and components."""
    body: dict[str, Any] = {"allowed_mentions": dict(mentions), "embeds": [], "components": []}
    if content is not None:
        body["content"] = truncate(content)
    if ephemeral:
        body["flags"] = _EPHEMERAL
    return body


@dataclass(frozen=True, slots=True)
class EmbedField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Embed:
    """A rich embed. Text longer than Discord allows is cut, marked with an ellipsis."""

    title: str | None = None
    description: str | None = None
    url: str | None = None
    color: int | None = None
    fields: Sequence[EmbedField] = ()
    footer: str | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    author: str | None = None
    timestamp: str | None = None  # ISO 8601

    def __post_init__(self) -> None:
        if len(self.fields) > MAX_EMBED_FIELDS:
            raise InvalidComponent("embed", f"has more than {MAX_EMBED_FIELDS} fields")

    def to_discord(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title is not None:
            out["title"] = truncate(self.title, MAX_EMBED_TITLE)
        if self.description is not None:
            out["description"] = truncate(self.description, MAX_EMBED_DESCRIPTION)
        for key in ("url", "color", "timestamp"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        if self.fields:
            out["fields"] = [
                {
                    "name": truncate(f.name, MAX_FIELD_NAME),
                    "value": truncate(f.value, MAX_FIELD_VALUE),
                    "inline": f.inline,
                }
                for f in self.fields
            ]
        if self.footer is not None:
            out["footer"] = {"text": truncate(self.footer, MAX_FOOTER)}
        if self.image_url is not None:
            out["image"] = {"url": self.image_url}
        if self.thumbnail_url is not None:
            out["thumbnail"] = {"url": self.thumbnail_url}
        if self.author is not None:
            out["author"] = {"name": truncate(self.author, MAX_EMBED_TITLE)}
        return out


@dataclass(frozen=True, slots=True)
class File:
    """A file to attach. Its bytes go in the multipart body, never in a log line."""

    filename: str
    data: bytes = field(repr=False)
    description: str | None = None
    content_type: str = "application/octet-stream"

    def __post_init__(self) -> None:
        # A plain name: no path, and nothing a multipart header would need to escape.
        if (
            not self.filename
            or any(c in self.filename for c in '/\\"')
            or not (self.filename.isprintable())
        ):
            raise InvalidComponent("file", f"{self.filename!r} is not a plain file name")


@dataclass(frozen=True, slots=True)
class Message:
    content: str | None = None
    embeds: Sequence[Embed | Mapping[str, Any]] = ()
    components: Sequence[ActionRow | RowItem] = ()
    files: Sequence[File] = ()
    ephemeral: bool = False
    allowed_mentions: Mapping[str, Any] = field(default_factory=lambda: dict(MENTION_USERS))

    def __post_init__(self) -> None:
        if len(self.embeds) > MAX_EMBEDS:
            raise InvalidComponent("message", f"has more than {MAX_EMBEDS} embeds")
        if len(self.files) > MAX_FILES:
            raise InvalidComponent("message", f"has more than {MAX_FILES} files")
        if self.components:
            # Laid out now too, so a component Discord would refuse fails where it is built.
            layout(self.components)

    def payload(self) -> dict[str, Any]:
        """The JSON body (``payload_json`` when files go with it)."""
        body = text_payload(self.content, ephemeral=self.ephemeral, mentions=self.allowed_mentions)
        if self.embeds:
            body["embeds"] = [
                e.to_discord() if isinstance(e, Embed) else dict(e) for e in self.embeds
            ]
        if self.components:
            body["components"] = [row.to_discord() for row in layout(self.components)]
        if self.files:
            body["attachments"] = [
                {"id": str(i), "filename": f.filename}
                | ({"description": f.description} if f.description else {})
                for i, f in enumerate(self.files)
            ]
        return body

    def channel_payload(self) -> dict[str, Any]:
        """For the bot-token channel routes, where a message cannot be ephemeral."""
        body = self.payload()
        body.pop("flags", None)
        return body
