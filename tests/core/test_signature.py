"""Signature verification: Discord's own signed requests, and every kind of forgery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from devtools.interactions import sign
from services.core.discord.errors import InvalidSignature
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureVerifier

VECTORS = json.loads((Path(__file__).parent.parent / "data" / "signature-vectors.json").read_text())
CASES = VECTORS["cases"]
NOW = 1_700_000_000


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_discord_signed_vectors(case):
    # GIVEN a clock at the moment Discord sent the request
    verifier = SignatureVerifier(
        bytes.fromhex(case["public_key"]), window=300, clock=lambda: int(case["timestamp"])
    )
    # WHEN it is verified, THEN valid ones pass and forged ones are refused
    if case["valid"]:
        verifier.verify(
            timestamp=case["timestamp"], signature=case["signature"], body=case["body"].encode()
        )
    else:
        with pytest.raises(InvalidSignature):
            verifier.verify(
                timestamp=case["timestamp"],
                signature=case["signature"],
                body=case["body"].encode(),
            )


def test_discord_vector_is_refused_today_without_an_injected_clock():
    valid = next(c for c in CASES if c["valid"])
    verifier = SignatureVerifier(bytes.fromhex(valid["public_key"]), window=300, clock=lambda: NOW)
    with pytest.raises(InvalidSignature, match="replay window"):
        verifier.verify(
            timestamp=valid["timestamp"], signature=valid["signature"], body=valid["body"].encode()
        )


KEY = SigningKey(bytes(range(32)))
BODY = b'{"type":1,"id":"1","application_id":"2","token":"t"}'
GOOD = sign(KEY, BODY, NOW)
SIG, TS = GOOD[SIGNATURE_HEADER], GOOD[TIMESTAMP_HEADER]


def _flip(hex_text: str) -> str:
    return ("1" if hex_text[0] == "0" else "0") + hex_text[1:]


FORGERIES = {
    "zero signature": (TS, "0" * 128, BODY),
    "flipped signature bit": (TS, _flip(SIG), BODY),
    "non-hex signature": (TS, "zz" * 64, BODY),
    "short signature": (TS, SIG[:-2], BODY),
    "long signature": (TS, SIG + "00", BODY),
    "empty signature": (TS, "", BODY),
    # bytes.fromhex would take these; Discord never sends them.
    "signature with spaces": (TS, " ".join(SIG[i : i + 2] for i in range(0, 128, 2)), BODY),
    "signature in capitals": (TS, SIG.upper(), BODY),
    "signature with a newline": (TS, SIG + "\n", BODY),
    "missing signature": (TS, None, BODY),
    "missing timestamp": (None, SIG, BODY),
    "changed timestamp": (str(NOW + 1), SIG, BODY),
    "non-numeric timestamp": ("abc", SIG, BODY),
    "changed body": (TS, SIG, BODY.replace(b'"1"', b'"9"')),
    "empty body": (TS, SIG, b""),
    "body with trailing space": (TS, SIG, BODY + b" "),
    "signed by another key": (
        TS,
        sign(SigningKey(bytes(32)), BODY, NOW)[SIGNATURE_HEADER],
        BODY,
    ),
}


@pytest.mark.parametrize(("timestamp", "signature", "body"), FORGERIES.values(), ids=FORGERIES)
def test_forgeries_are_refused(timestamp, signature, body):
    verifier = SignatureVerifier(KEY.verify_key.encode(), window=300, clock=lambda: NOW)
    with pytest.raises(InvalidSignature):
        verifier.verify(timestamp=timestamp, signature=signature, body=body)
    # The genuine one passes: each case fails for its own change.
    verifier.verify(timestamp=TS, signature=SIG, body=BODY)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (299, True), (-299, True), (301, False), (-301, False), (86_400, False)],
)
def test_replay_window_applies_in_both_directions(offset, accepted):
    # GIVEN a genuine request whose timestamp is `offset` seconds from our clock
    verifier = SignatureVerifier(KEY.verify_key.encode(), window=300, clock=lambda: NOW + offset)
    if accepted:
        verifier.verify(timestamp=TS, signature=SIG, body=BODY)
    else:
        with pytest.raises(InvalidSignature, match="replay window"):
            verifier.verify(timestamp=TS, signature=SIG, body=BODY)
