"""Discord's multipart bodies ("Uploading Files"): a ``payload_json`` part holding the JSON
body and one ``files[n]`` part per file, where ``n`` is the id the body's ``attachments``
gives that file.

The same reader serves the bot's requests (a message with files) and its answers to an
interaction (an instant reply with files, as hikari's interaction server sends it);
``upload_problems`` says what Discord would refuse in how the two halves name each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web

MULTIPART: Final = "multipart/form-data"
PAYLOAD_PART: Final = "payload_json"
_FILE_PART: Final = re.compile(r"files\[([0-9]+)\]")
# Discord's upload limit per file for a bot without a boosted server (docs, "Uploading Files").
MAX_FILE_SIZE: Final = 10 * 1024 * 1024
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One ``files[n]`` part as it arrived."""

    name: str  # the part's name, "files[0]"
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def index(self) -> str:
        """The ``n`` of ``files[n]``: the id ``attachments`` must give this file."""
        match = _FILE_PART.fullmatch(self.name)
        return match.group(1) if match else self.name


@dataclass(frozen=True, slots=True)
class Form:
    """A multipart body, read in full."""

    payload: Any  # ``payload_json`` parsed; None when there was no such part
    files: tuple[UploadedFile, ...]
    # Parts Discord would not take: unknown names, a name twice. Each names its part.
    problems: tuple[str, ...] = ()
    # ``files[n]`` parts over MAX_FILE_SIZE, with their sizes; their bytes are not kept.
    too_large: tuple[tuple[str, int], ...] = ()


class InvalidPayloadJson(ValueError):  # noqa: N818 - reads as what it is
    """``payload_json`` is not JSON (Discord: 400, code 50109)."""


async def read_form(reader: aiohttp.MultipartReader, *, max_file_size: int = MAX_FILE_SIZE) -> Form:
    """Read every part, to the end even past a refusal, so the sender sees the answer rather
    than a connection cut while it was still writing."""
    payload: bytes | None = None
    files: list[UploadedFile] = []
    problems: list[str] = []
    too_large: list[tuple[str, int]] = []
    seen: set[str] = set()
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.MultipartReader):
            problems.append("a nested multipart part")
            await _drain_nested(part)
            continue
        name = part.name or ""
        data, size = await _read_part(part, max_file_size)
        if name in seen:
            problems.append(f"{name}: sent twice")
            continue
        seen.add(name)
        if name == PAYLOAD_PART:
            if data is None:
                problems.append(f"{name}: {size} bytes, over the limit")
            payload = data
        elif _FILE_PART.fullmatch(name) is None:
            problems.append(f"{name or '(unnamed part)'}: not payload_json or files[n]")
        elif data is None:
            too_large.append((name, size))
        else:
            content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
            files.append(UploadedFile(name, part.filename, content_type, data))
    try:
        parsed = None if payload is None else json.loads(payload)
    except ValueError as exc:
        raise InvalidPayloadJson(f"payload_json: {exc}") from None
    return Form(parsed, tuple(files), tuple(problems), tuple(too_large))


async def _read_part(part: aiohttp.BodyPartReader, limit: int) -> tuple[bytes | None, int]:
    """The part's bytes and size; past ``limit`` the bytes are dropped (``None``)."""
    chunks: list[bytes] | None = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if chunks is not None and size > limit:
            chunks = None
        if chunks is not None:
            chunks.append(bytes(chunk))
    return (None if chunks is None else b"".join(chunks)), size


async def _drain_nested(reader: aiohttp.MultipartReader) -> None:
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.MultipartReader):
            await _drain_nested(part)
        else:
            await part.release()


def upload_problems(
    body: Any, files: Sequence[UploadedFile], existing: Collection[str] = ()
) -> list[str]:
    """Where ``attachments`` and the uploaded parts disagree, as Discord's 50035 names it.

    An ``attachments[].id`` must name an uploaded ``files[id]`` part, or, on an edit, an
    attachment the message already has (``existing``); every uploaded part must be named.
    """
    entries = body.get("attachments") if isinstance(body, dict) else None
    uploaded = {f.index for f in files}
    named: set[str] = set()
    problems = []
    for position, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or "id" not in entry:
            continue  # the schema check names this one
        ident = str(entry["id"])
        if ident in existing:
            continue
        if ident not in uploaded:
            problems.append(
                f"attachments/{position}/id: {ident!r} is neither an uploaded files[{ident}] "
                "part nor an attachment of the message"
            )
        named.add(ident)
    problems.extend(
        f"files[{index}]: uploaded but not named in attachments"
        for index in sorted(uploaded - named)
    )
    return problems


async def read_upload(request: web.Request) -> bytes | None:
    """The bytes of a file a user attaches (the sandbox page, ``devtools.send``), or None
    past Discord's limit, which the caller refuses with ``upload_too_large``."""
    if request.content_length is not None and request.content_length > MAX_FILE_SIZE:
        return None
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return None
    return data if len(data) <= MAX_FILE_SIZE else None


def upload_too_large(filename: str) -> web.Response:
    return web.json_response(
        {"error": f"{filename} is over the {MAX_FILE_SIZE // 2**20} MiB Discord takes"},
        status=413,
    )
