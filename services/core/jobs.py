"""The one message format on the jobs queue, written by the API (and the scheduler) and read
by the worker.

Versioned: a worker refuses a version it does not know instead of guessing, so a rolling
deploy that changes the format cannot run a job wrongly. Version 2 carries the route the API
chose and how it acknowledged the interaction; the worker still reads version 1, which the
previous API wrote, during a rolling deploy. A "followups" job carries the rest of a reply the
API answered at once but that was longer than one Discord message.

    {"v": 2, "kind": "interaction", "id": "<interaction id>", "route": "component:again",
     "defer": "update", "ephemeral": false, "received_at": 1700000000.123,
     "interaction": {...exactly what Discord sent...}}
    {"v": 2, "kind": "followups", "id": "<interaction id>", "route": "command:help",
     "ephemeral": true, "mentions": {"parse": []}, "parts": ["…", "…"],
     "received_at": 1700000000.123, "interaction": {...}}
    {"v": 2, "kind": "task", "id": "<EventBridge event id>", "task": "daily-reminder",
     "received_at": 1700000000.123, "detail": {...the event...}}
    {"v": 1, "kind": "command", "id": ..., "command": "countdown", ...}      (read only)

The interaction carries its token (the worker needs it to edit the reply): the queue is
encrypted at rest and the token is never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from services.core.bot.routes import Defer, RouteKind
from services.core.discord.errors import MalformedInteraction
from services.core.discord.interaction import Interaction
from services.core.errors import JobFormatError

JOB_FORMAT_VERSION: Final = 2
READABLE_VERSIONS: Final = frozenset({1, 2})


class JobKind(StrEnum):
    INTERACTION = "interaction"
    FOLLOWUPS = "followups"
    TASK = "task"
    COMMAND = "command"  # version 1's name for an interaction job


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
    kind: JobKind = JobKind.INTERACTION

    @property
    def name(self) -> str:
        """What logs call the job: the route's key (``countdown``, ``again``)."""
        return self.route.split(":", 1)[1] if ":" in self.route else self.route

    def encode(self) -> str:
        return json.dumps(
            {
                "v": JOB_FORMAT_VERSION,
                "kind": JobKind.INTERACTION.value,
                "id": self.id,
                "route": self.route,
                "defer": self.defer.value,
                "ephemeral": self.ephemeral,
                "received_at": self.received_at,
                "interaction": self.interaction.raw,
            },
            separators=(",", ":"),
        )

    @classmethod
    def for_route(
        cls,
        interaction: Interaction,
        route: str,
        *,
        defer: Defer,
        ephemeral: bool,
        received_at: float,
    ) -> Job:
        return cls(
            id=interaction.id,
            route=route,
            defer=defer,
            received_at=received_at,
            interaction=interaction,
            ephemeral=ephemeral,
        )


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
    kind: JobKind = JobKind.FOLLOWUPS

    @property
    def name(self) -> str:
        return self.route.split(":", 1)[1] if ":" in self.route else self.route

    def encode(self) -> str:
        return json.dumps(
            {
                "v": JOB_FORMAT_VERSION,
                "kind": self.kind.value,
                "id": self.id,
                "route": self.route,
                "parts": list(self.parts),
                "ephemeral": self.ephemeral,
                "mentions": self.mentions,
                "received_at": self.received_at,
                "interaction": self.interaction.raw,
            },
            separators=(",", ":"),
        )


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

    def encode(self) -> str:
        return json.dumps(
            {
                "v": JOB_FORMAT_VERSION,
                "kind": self.kind.value,
                "id": self.id,
                "task": self.task,
                "received_at": self.received_at,
                "detail": self.detail,
            },
            separators=(",", ":"),
        )


def _received_at(data: dict[str, Any], message_id: str | None) -> float:
    received_at = data.get("received_at")
    if not isinstance(received_at, int | float) or isinstance(received_at, bool):
        raise JobFormatError("received_at is not a number", message_id=message_id)
    return float(received_at)


def _interaction_job(data: dict[str, Any], version: int, message_id: str | None) -> Job:
    try:
        interaction = Interaction.from_payload(data.get("interaction"))
    except MalformedInteraction as exc:
        raise JobFormatError(f"interaction: {exc.reason}", message_id=message_id) from None
    if data.get("id") != interaction.id:
        raise JobFormatError("id does not match the interaction", message_id=message_id)
    received_at = _received_at(data, message_id)
    if version == 1:
        command = data.get("command")
        if not isinstance(command, str) or not command:
            raise JobFormatError("command is missing", message_id=message_id)
        return Job(
            interaction.id, f"{RouteKind.COMMAND}:{command}", Defer.REPLY, received_at, interaction
        )
    route, ephemeral = data.get("route"), data.get("ephemeral")
    if not isinstance(route, str) or ":" not in route:
        raise JobFormatError("route is missing", message_id=message_id)
    try:
        defer = Defer(str(data.get("defer")))
    except ValueError:
        raise JobFormatError(
            f"unknown defer {data.get('defer')!r}", message_id=message_id
        ) from None
    if not isinstance(ephemeral, bool):
        raise JobFormatError("ephemeral is not a boolean", message_id=message_id)
    return Job(interaction.id, route, defer, received_at, interaction, ephemeral)


def _followups_job(data: dict[str, Any], message_id: str | None) -> FollowupsJob:
    base = _interaction_job({**data, "defer": Defer.REPLY.value}, 2, message_id)
    parts, mentions = data.get("parts"), data.get("mentions")
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        raise JobFormatError("parts is not a list of text", message_id=message_id)
    if not isinstance(mentions, dict):
        raise JobFormatError("mentions is not an object", message_id=message_id)
    return FollowupsJob(
        base.id,
        base.route,
        tuple(parts),
        bool(base.ephemeral),
        mentions,
        base.received_at,
        base.interaction,
    )


def decode_any(body: str, *, message_id: str | None = None) -> Job | FollowupsJob | TaskJob:
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise JobFormatError("body is not JSON", message_id=message_id) from None
    if not isinstance(data, dict):
        raise JobFormatError("body is not a JSON object", message_id=message_id)
    version = data.get("v")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise JobFormatError(f"unknown version {version!r}", message_id=message_id)
    kind = data.get("kind")
    expected = JobKind.COMMAND if version == 1 else JobKind.INTERACTION
    if kind == expected:
        return _interaction_job(data, version, message_id)
    if kind == JobKind.FOLLOWUPS and version == JOB_FORMAT_VERSION:
        return _followups_job(data, message_id)
    if kind != JobKind.TASK:
        raise JobFormatError(f"unknown kind {kind!r}", message_id=message_id)
    ident, task, detail = data.get("id"), data.get("task"), data.get("detail")
    if not isinstance(ident, str) or not ident or not isinstance(task, str) or not task:
        raise JobFormatError("task job without id or task", message_id=message_id)
    if not isinstance(detail, dict):
        raise JobFormatError("detail is not an object", message_id=message_id)
    return TaskJob(id=ident, task=task, received_at=_received_at(data, message_id), detail=detail)


def decode_job(body: str, *, message_id: str | None = None) -> Job:
    """An interaction job; ``decode_any`` reads task jobs too."""
    job = decode_any(body, message_id=message_id)
    if not isinstance(job, Job):
        raise JobFormatError("a task job, not an interaction job", message_id=message_id)
    return job
