"""The baseline: a raw ASGI app that only reads the body, verifies Discord's signature with
PyNaCl and answers PONG. No framework, no routing, no logging: the floor our API is
compared with. Run as ``python -m bench.baseline PORT PUBLIC_KEY_HEX``."""

from __future__ import annotations

import sys

import uvicorn
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey


def make_app(public_key: bytes):
    key = VerifyKey(public_key)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        try:
            key.verify(
                headers[b"x-signature-timestamp"] + body,
                bytes.fromhex(headers[b"x-signature-ed25519"].decode()),
            )
            status, answer = 200, b'{"type":1}'
        except (KeyError, ValueError, BadSignatureError):
            status, answer = 401, b'{"error":"invalid request signature"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


if __name__ == "__main__":
    port, key = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
    uvicorn.run(make_app(key), host="127.0.0.1", port=port, log_level="warning", access_log=False)
