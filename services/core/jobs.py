"""The one message format on the jobs queue, written by the API (and the scheduler) and read
by the worker, and how the worker knows a message is genuine.

Anyone who can send to the queue (the API's role, the scheduler's) could otherwise make the
worker act with its rights. So every job is authenticated twice over:

- an interaction job carries what Discord sent, byte for byte, with Discord's Ed25519
  signature and timestamp: the worker checks them with the application's public key, as the
  API did, and parses the interaction from those bytes. Nobody without Discord's key can
  make a job for an interaction Discord did not send, nor change one (its options, its
  member's permissions, its channel);
- every job carries an HMAC-SHA256 of the whole envelope under ``JOB_SIGNING_KEY``, a key
  only the producers and the worker hold: the route the API chose, the parts of a long
  answer and the scheduler's tasks (which Discord did not sign) cannot be forged either.

A job that fails either check is parked (never run): the worker leaves it to the queue's
redrive policy, which moves it to the dead-letter queue.

Versioned: a worker refuses a version it does not know instead of guessing. Version 2:

    {"v": 2, "kind": "interaction", "id": "<interaction id>", "route": "component:again",
     "defer": "update", "ephemeral": false, "received_at": 1700000000.123,
     "discord": {"body": "<the raw JSON Discord sent>", "signature": "<hex>",
                 "timestamp": "1700000000"},
     "mac": "<hex>"}
    {"v": 2, "kind": "followups", ... as an interaction job, with "parts": ["…", "…"] and
     "mentions": {"parse": []} instead of "defer" ...}
    {"v": 2, "kind": "task", "id": "<schedule's task and time>", "task": "daily-reminder",
     "received_at": 1700000000.123, "detail": {...the event...}, "mac": "<hex>"}

Version 1 (``{"v": 1, "kind": "command", "command": "countdown", "interaction": {...}}``,
unsigned) is read only when the worker is told to (``JOBS_ACCEPT_V1``), for the one rolling
deploy that moves a running bot from version 1 to 2; then it is turned off again.

The interaction carries its token (the worker needs it to edit the reply): the queue is
encrypted at rest and the token is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from services.core.bot.routes import Defer, RouteKind
from services.core.discord.errors import MalformedInteraction
from services.core.discord.interaction import Interaction
from services.core.errors import JobFormatError

JOB_FORMAT_VERSION: Final = 2
LEGACY_VERSION: Final = 1


class JobKind(StrEnum):
    INTERACTION = "interaction"
    FOLLOWUPS = "followups"
    TASK = "task"
    COMMAND = "command"  # version 1's name for an interaction job


@dataclass(frozen=True, slots=True)
class SignedBody:
    """What Discord sent, as it sent it: the raw body, its signature and its timestamp."""

    body: str = field(repr=False)
    signature: str
    timestamp: str

    def as_json(self) -> dict[str, str]:
        return {"body": self.body, "signature": self.signature, "timestamp": self.timestamp}


@dataclass(frozen=True, slots=True)
class Job:
    """A deferred interaction: the route to run, how it was acknowledged, the interaction."""

    id: str
    route: str
    defer: Defer
    received_at: float
    interaction: Interaction
    # None for a version-1 job, which did not say: the route's own setting applies.
    ephemeral: bool | None = None
    signed: SignedBody | None = None
    kind: JobKind = JobKind.INTERACTION

    @property
    def name(self) -> str:
        """What logs call the job: the route's key (``countdown``, ``again``)."""
        return self.route.split(":", 1)[1] if ":" in self.route else self.route

    def fields(self) -> dict[str, Any]:
        return {
            "kind": JobKind.INTERACTION.value,
            "id": self.id,
            "route": self.route,
            "defer": self.defer.value,
            "ephemeral": self.ephemeral,
            "received_at": self.received_at,
            "discord": self.signed.as_json() if self.signed else None,
        }

    @classmethod
    def for_route(
        cls,
        interaction: Interaction,
        route: str,
        *,
        defer: Defer,
        ephemeral: bool,
        received_at: float,
        signed: SignedBody,
    ) -> Job:
        return cls(interaction.id, route, defer, received_at, interaction, ephemeral, signed)


@dataclass(frozen=True, slots=True)
class FollowupsJob:
    """The parts of an answer given now that did not fit in the answer itself: the worker
    posts them as follow-ups, in order."""

    id: str
    route: str
    parts: tuple[str, ...]
    ephemeral: bool
    mentions: dict[str, Any]
    received_at: float
    interaction: Interaction
    signed: SignedBody | None = None
    kind: JobKind = JobKind.FOLLOWUPS

    @property
    def name(self) -> str:
        return self.route.split(":", 1)[1] if ":" in self.route else self.route

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "route": self.route,
            "parts": list(self.parts),
            "ephemeral": self.ephemeral,
            "mentions": self.mentions,
            "received_at": self.received_at,
            "discord": self.signed.as_json() if self.signed else None,
        }


@dataclass(frozen=True, slots=True)
class TaskJob:
    """A scheduled task too long for the Lambda, handed to the worker."""

    id: str
    task: str
    received_at: float
    detail: dict[str, Any]
    kind: JobKind = JobKind.TASK

    @property
    def name(self) -> str:
        return self.task

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "task": self.task,
            "received_at": self.received_at,
            "detail": self.detail,
        }


AnyJob = Job | FollowupsJob | TaskJob
# Checks Discord's signature on a job's interaction; raises ``JobFormatError`` if it fails.
DiscordCheck = Callable[[SignedBody], None]
# The year 3000, in epoch seconds: later than any job, earlier than any float overflow.
MAX_EPOCH: Final = 32_503_680_000


def _canonical(envelope: dict[str, Any]) -> bytes:
    """The bytes the MAC covers: the envelope without its MAC, keys sorted, no spaces."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


class JobCodec:
    """Writes and reads jobs. Producers (the API, the scheduler) need ``key``; the worker
    also needs ``discord`` (its check of Discord's signature)."""

    def __init__(
        self,
        *,
        key: bytes | None,
        discord: DiscordCheck | None = None,
        accept_v1: bool = False,
    ) -> None:
        self._key = key
        self._discord = discord
        self._accept_v1 = accept_v1

    def _mac(self, envelope: dict[str, Any]) -> str:
        assert self._key is not None
        return hmac.new(self._key, _canonical(envelope), hashlib.sha256).hexdigest()

    def encode(self, job: AnyJob) -> str:
        if self._key is None:
            raise JobFormatError("no JOB_SIGNING_KEY to sign the job with")
        envelope = {"v": JOB_FORMAT_VERSION, **job.fields()}
        envelope["mac"] = self._mac(envelope)
        return json.dumps(envelope, separators=(",", ":"))

    def decode(self, body: str, *, message_id: str | None = None) -> AnyJob:
        """The job, if it is one this worker may run; else ``JobFormatError`` saying why,
        whatever the body holds (anyone who may send to the queue chose it)."""

        def refuse(reason: str) -> JobFormatError:
            return JobFormatError(reason, message_id=message_id)

        try:
            return self._decode(body, refuse)
        except JobFormatError:
            raise
        except (ValueError, TypeError, LookupError, RecursionError, ArithmeticError) as exc:
            # A shape no check above foresaw: refused all the same, never a crash.
            raise refuse(f"not a job ({type(exc).__name__})") from None

    def _decode(self, body: str, refuse: Callable[[str], JobFormatError]) -> AnyJob:
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):
            raise refuse("body is not JSON") from None
        if not isinstance(data, dict):
            raise refuse("body is not a JSON object")
        version = data.get("v")
        if version == LEGACY_VERSION and type(version) is int:
            if not self._accept_v1:
                raise refuse("an unsigned version-1 job (JOBS_ACCEPT_V1 is off)")
            return _legacy(data, refuse)
        if version != JOB_FORMAT_VERSION or type(version) is not int:
            raise refuse(f"unknown version {version!r}")
        mac = data.pop("mac", None)
        if self._key is None:
            raise refuse("no JOB_SIGNING_KEY to check the job with")
        if not isinstance(mac, str) or not hmac.compare_digest(
            mac.encode(errors="replace"), self._mac(data).encode()
        ):
            raise refuse("forged or altered: its MAC does not match")
        kind = data.get("kind")
        if kind == JobKind.TASK:
            return _task(data, refuse)
        if kind not in (JobKind.INTERACTION, JobKind.FOLLOWUPS):
            raise refuse(f"unknown kind {kind!r}")
        signed, interaction = self._interaction(data, refuse)
        if data.get("id") != interaction.id:
            raise refuse("id does not match the interaction")
        route, ephemeral = data.get("route"), data.get("ephemeral")
        if not isinstance(route, str) or not route.startswith(tuple(f"{k}:" for k in RouteKind)):
            raise refuse("route is missing")
        if not isinstance(ephemeral, bool):
            raise refuse("ephemeral is not a boolean")
        received_at = _received_at(data, refuse)
        if kind == JobKind.FOLLOWUPS:
            parts, mentions = data.get("parts"), data.get("mentions")
            if (
                not isinstance(parts, list)
                or not parts
                or not all(isinstance(p, str) for p in parts)
            ):
                raise refuse("parts is not a list of text")
            if not isinstance(mentions, dict):
                raise refuse("mentions is not an object")
            return FollowupsJob(
                interaction.id,
                route,
                tuple(parts),
                ephemeral,
                mentions,
                received_at,
                interaction,
                signed,
            )
        try:
            defer = Defer(str(data.get("defer")))
        except ValueError:
            raise refuse(f"unknown defer {data.get('defer')!r}") from None
        return Job(interaction.id, route, defer, received_at, interaction, ephemeral, signed)

    def _interaction(
        self, data: dict[str, Any], refuse: Callable[[str], JobFormatError]
    ) -> tuple[SignedBody, Interaction]:
        """Discord's signed bytes, checked, and the interaction read from them."""
        raw = data.get("discord")
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) for k in ("body", "signature", "timestamp")
        ):
            raise refuse("no interaction signed by Discord")
        signed = SignedBody(raw["body"], raw["signature"], raw["timestamp"])
        if self._discord is None:
            raise refuse("this reader cannot check Discord's signature")
        self._discord(signed)
        try:
            return signed, Interaction.from_payload(json.loads(signed.body))
        except (ValueError, MalformedInteraction) as exc:
            reason = exc.reason if isinstance(exc, MalformedInteraction) else "not JSON"
            raise refuse(f"interaction: {reason}") from None


def _received_at(data: dict[str, Any], refuse: Callable[[str], JobFormatError]) -> float:
    received_at = data.get("received_at")
    if not isinstance(received_at, int | float) or isinstance(received_at, bool):
        raise refuse("received_at is not a number")
    # Epoch seconds: finite and within the years a job can be from (NaN, 1e400 and
    # 400-digit integers are all JSON a sender can write).
    if not 0 <= received_at < MAX_EPOCH:
        raise refuse("received_at is not a time")
    return float(received_at)


def _task(data: dict[str, Any], refuse: Callable[[str], JobFormatError]) -> TaskJob:
    ident, task, detail = data.get("id"), data.get("task"), data.get("detail")
    if not isinstance(ident, str) or not ident or not isinstance(task, str) or not task:
        raise refuse("task job without id or task")
    if not isinstance(detail, dict):
        raise refuse("detail is not an object")
    return TaskJob(ident, task, _received_at(data, refuse), detail)


def _legacy(data: dict[str, Any], refuse: Callable[[str], JobFormatError]) -> AnyJob:
    """A version-1 job, as the previous API and scheduler wrote them."""
    if data.get("kind") == JobKind.TASK:
        return _task(data, refuse)
    if data.get("kind") != JobKind.COMMAND:
        raise refuse(f"unknown kind {data.get('kind')!r}")
    try:
        interaction = Interaction.from_payload(data.get("interaction"))
    except MalformedInteraction as exc:
        raise refuse(f"interaction: {exc.reason}") from None
    if data.get("id") != interaction.id:
        raise refuse("id does not match the interaction")
    command = data.get("command")
    if not isinstance(command, str) or not command:
        raise refuse("command is missing")
    route = f"{RouteKind.COMMAND}:{command}"
    return Job(interaction.id, route, Defer.REPLY, _received_at(data, refuse), interaction)
