"""``multipart/form-data`` bodies as Discord takes them with files (Discord docs, "Uploading
Files"): a ``payload_json`` part with the JSON body, then one ``files[n]`` part per file, ``n``
being the id the JSON's ``attachments`` gives it.

The REST client builds its uploads with aiohttp; this encoder serves the API, which answers an
interaction with files in its HTTP response (as hikari's interaction server does) and has no
aiohttp writer at hand there.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from services.core.discord.messages import File


def encode(payload_json: bytes, files: Sequence[File]) -> tuple[bytes, str]:
    """The body and its Content-Type. File names need no escaping: ``File`` allows none of
    the characters a header would have to escape."""
    boundary = secrets.token_hex(16)
    dash = f"--{boundary}\r\n".encode()
    parts = [
        dash,
        b'Content-Disposition: form-data; name="payload_json"\r\n',
        b"Content-Type: application/json\r\n\r\n",
        payload_json,
        b"\r\n",
    ]
    for index, file in enumerate(files):
        parts += [
            dash,
            (
                f'Content-Disposition: form-data; name="files[{index}]"; '
                f'filename="{file.filename}"\r\n'
                f"Content-Type: {file.content_type}\r\n\r\n"
            ).encode(),
            file.data,
            b"\r\n",
        ]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
