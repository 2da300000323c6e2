"""How the worker knows a job is genuine: the reader of the queue's messages, with the job
signing key and a check of Discord's own signature on every interaction (see
``services.core.jobs``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from services.core.config import WorkerSettings
from services.core.discord.errors import InvalidSignature
from services.core.discord.signature import SignatureVerifier
from services.core.errors import JobFormatError
from services.core.jobs import DiscordCheck, JobCodec, SignedBody


def discord_check(
    public_key: bytes, *, max_age: float, clock: Callable[[], float] = time.time
) -> DiscordCheck:
    """Checks Discord's signature on a job's interaction. A job waits and is retried for a
    long time, so the replay window is ``max_age`` (how long the ledger remembers a job),
    not the API's five minutes: an older interaction could run twice."""
    verifier = SignatureVerifier(public_key, window=max_age, clock=clock)

    def check(signed: SignedBody) -> None:
        try:
            verifier.verify(
                timestamp=signed.timestamp, signature=signed.signature, body=signed.body.encode()
            )
        except InvalidSignature as exc:
            raise JobFormatError(f"not signed by Discord: {exc.reason}") from None

    return check


def job_reader(settings: WorkerSettings, *, clock: Callable[[], float] = time.time) -> JobCodec:
    return JobCodec(
        key=settings.jobs.key_bytes,
        discord=discord_check(settings.public_key, max_age=settings.idempotency_keep, clock=clock),
        accept_v1=settings.jobs.accept_v1,
    )
