"""Ed25519 verification of Discord's interaction requests.

Discord signs ``X-Signature-Timestamp`` + raw body with the application's key and sends the
signature in ``X-Signature-Ed25519``. It also sends forged requests on purpose and removes
the endpoint URL from an application whose endpoint does not answer them with 401
(Discord docs, "Security and Authorization").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from services.core.discord.errors import InvalidSignature

SIGNATURE_HEADER: Final = "x-signature-ed25519"
TIMESTAMP_HEADER: Final = "x-signature-timestamp"
# Discord sends the signature as 128 lowercase hex digits; bytes.fromhex would also take
# spaces and capitals, so the header is matched first.
_SIGNATURE_HEX: Final = re.compile(r"[0-9a-f]{128}")
_MAX_TIMESTAMP_DIGITS: Final = 12


class SignatureVerifier:
    """Checks a request's signature and that its timestamp is inside the replay window."""

    __slots__ = ("_clock", "_key", "_window")

    def __init__(self, public_key: bytes, *, window: float, clock: Callable[[], float]) -> None:
        self._key = VerifyKey(public_key)
        self._window = window
        self._clock = clock

    def verify(self, *, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """Return normally for a genuine, fresh request; raise ``InvalidSignature`` otherwise."""
        if not timestamp or not signature:
            raise InvalidSignature("missing signature headers")
        if (
            not timestamp.isascii()
            or not timestamp.isdigit()
            or len(timestamp) > _MAX_TIMESTAMP_DIGITS
        ):
            raise InvalidSignature("timestamp is not a unix time")
        if _SIGNATURE_HEX.fullmatch(signature) is None:
            raise InvalidSignature("signature is not 128 lowercase hex digits")
        sig = bytes.fromhex(signature)
        try:
            self._key.verify(timestamp.encode() + body, sig)
        except (BadSignatureError, CryptoError):
            raise InvalidSignature("signature does not match") from None
        # Checked after the signature, so the timestamp is Discord's and not an attacker's.
        if abs(self._clock() - int(timestamp)) > self._window:
            raise InvalidSignature("timestamp outside the replay window")
