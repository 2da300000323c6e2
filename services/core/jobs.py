"""The one message format on the jobs queue, written by the API (and the scheduler) and read
by the worker.

Versioned: a worker refuses a version it does not know instead of guessing, so a rolling
deploy that changes the format cannot run a job wrongly.

    {"v": 1, "kind": "command", "id": "<interaction id>", "command": "countdown",
     "received_at": 1700000000.123, "interaction": {...exactly what Discord sent...}}
    {"v": 1, "kind": "task", "id": "<EventBridge event id>", "task": "daily-reminder",
     "received_at": 1700000000.123, "detail": {...the event...}}

The interaction carries its token (the worker needs it to edit the reply): the queue is
encrypted at rest and the token is never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from services.core.discord.errors import MalformedInteraction
from services.core.discord.models import Interaction
from services.core.errors import JobFormatError

JOB_FORMAT_VERSION: Final = 1


class JobKind(StrEnum):
    COMMAND = "command"
    TASK = "task"


@dataclass(frozen=True, slots=True)
class Job:
    kind: JobKind
    id: str
    command: str
    received_at: float
    interaction: Interaction

    def encode(self) -> str:
        return json.dumps(
            {
                "v": JOB_FORMAT_VERSION,
                "kind": self.kind.value,
                "id": self.id,
                "command": self.command,
                "received_at": self.received_at,
                "interaction": self.interaction.raw,
            },
            separators=(",", ":"),
        )

    @classmethod
    def for_command(cls, interaction: Interaction, command: str, *, received_at: float) -> Job:
        return cls(
            kind=JobKind.COMMAND,
            id=interaction.id,
            command=command,
            received_at=received_at,
            interaction=interaction,
        )

    @classmethod
    def decode(cls, body: str, *, message_id: str | None = None) -> Job:
        """A command job; ``decode_any`` reads task jobs too."""
        job = decode_any(body, message_id=message_id)
        if not isinstance(job, Job):
            raise JobFormatError("a task job, not a command job", message_id=message_id)
        return job

    @classmethod
    def from_data(cls, data: dict[str, Any], *, message_id: str | None = None) -> Job:
        kind = JobKind.COMMAND
        command, received_at = data.get("command"), data.get("received_at")
        if not isinstance(command, str) or not command:
            raise JobFormatError("command is missing", message_id=message_id)
        if not isinstance(received_at, int | float) or isinstance(received_at, bool):
            raise JobFormatError("received_at is not a number", message_id=message_id)
        try:
            interaction = Interaction.from_payload(data.get("interaction"))
        except MalformedInteraction as exc:
            raise JobFormatError(f"interaction: {exc.reason}", message_id=message_id) from None
        if data.get("id") != interaction.id:
            raise JobFormatError("id does not match the interaction", message_id=message_id)
        return cls(
            kind=kind,
            id=interaction.id,
            command=command,
            received_at=float(received_at),
            interaction=interaction,
        )


@dataclass(frozen=True, slots=True)
class TaskJob:
    """A scheduled task too long for the Lambda, handed to the worker."""

    id: str
    task: str
    received_at: float
    detail: dict[str, Any]
    kind: JobKind = JobKind.TASK

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


def decode_any(body: str, *, message_id: str | None = None) -> Job | TaskJob:
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise JobFormatError("body is not JSON", message_id=message_id) from None
    if not isinstance(data, dict):
        raise JobFormatError("body is not a JSON object", message_id=message_id)
    if data.get("v") != JOB_FORMAT_VERSION:
        raise JobFormatError(f"unknown version {data.get('v')!r}", message_id=message_id)
    try:
        kind = JobKind(str(data.get("kind")))
    except ValueError:
        raise JobFormatError(f"unknown kind {data.get('kind')!r}", message_id=message_id) from None
    if kind is JobKind.COMMAND:
        return Job.from_data(data, message_id=message_id)
    ident, task, received_at, detail = (
        data.get("id"),
        data.get("task"),
        data.get("received_at"),
        data.get("detail"),
    )
    if not isinstance(ident, str) or not ident or not isinstance(task, str) or not task:
        raise JobFormatError("task job without id or task", message_id=message_id)
    if not isinstance(received_at, int | float) or isinstance(received_at, bool):
        raise JobFormatError("received_at is not a number", message_id=message_id)
    if not isinstance(detail, dict):
        raise JobFormatError("detail is not an object", message_id=message_id)
    return TaskJob(id=ident, task=task, received_at=float(received_at), detail=detail)
