"""A file a user gave a command, made into what the model reads: a text file's content (as
labelled data) or an image (for a vision model).

Only Discord's own file hosts are fetched (``DISCORD_CDN_URL``): the URL comes from the
interaction, which Discord signed, but a fetch to anywhere else is one a request could steer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from services.core.bot.resolved import Attachment
from services.core.llm.errors import UnreadableFileError
from services.core.llm.models import Image

MAX_TEXT_BYTES: Final = 200_000
# Anthropic and Bedrock take images of up to 5 MB (3.75 MB for Bedrock's Converse); the
# smaller bound fits every provider.
MAX_IMAGE_BYTES: Final = 3_750_000
IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES: Final = ("text/", "application/json", "application/xml", "application/x-yaml")
FETCH_TIMEOUT: Final = 20.0


@dataclass(frozen=True, slots=True)
class FileText:
    name: str
    text: str


async def _body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or as soon as it passes ``limit``, what came so far: one read returns
    what is buffered, not the whole file."""
    data = bytearray()
    async for piece in response.content.iter_chunked(64 * 1024):
        data += piece
        if len(data) > limit:
            break
    return bytes(data)


def _allowed(url: str, origins: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return any(origin == o for o in origins) and not parts.username


async def read_attachment(attachment: Attachment, *, origins: tuple[str, ...]) -> FileText | Image:
    url = attachment.url
    name = attachment.filename or "file"
    media = str(attachment.data.get("content_type") or "").split(";")[0].strip().lower()
    size = attachment.data.get("size")
    if url is None or not _allowed(url, origins):
        raise UnreadableFileError("That file is not one Discord hosts, so I did not open it.")
    is_image = media in IMAGE_TYPES
    if not is_image and not media.startswith(TEXT_TYPES):
        raise UnreadableFileError("I can read text files and images (PNG, JPEG, GIF, WebP) only.")
    limit = MAX_IMAGE_BYTES if is_image else MAX_TEXT_BYTES
    if isinstance(size, int) and size > limit:
        raise UnreadableFileError(f"That file is too large for me ({limit // 1000} KB at most).")
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise UnreadableFileError(
                    f"I could not download the file (HTTP {response.status})."
                )
            data = await _body(response, limit)
    except (aiohttp.ClientError, TimeoutError):
        raise UnreadableFileError("I could not download the file; try again.") from None
    if len(data) > limit:
        raise UnreadableFileError(f"That file is too large for me ({limit // 1000} KB at most).")
    if is_image:
        return Image(data=data, media_type=media)
    try:
        return FileText(name=name, text=data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnreadableFileError("That file is not UTF-8 text.") from None
