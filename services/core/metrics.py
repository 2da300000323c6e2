"""Metrics as CloudWatch Embedded Metric Format, carried by the canonical log lines.

CloudWatch Logs turns a JSON log line with an ``_aws`` member into metrics, with no agent
and no header (AWS docs, "Embedded metric format": "No setup is required"; on Fargate the
awslogs driver sends stdout to CloudWatch Logs, where the lines are parsed). So each
canonical line (``interaction`` in the API, ``job`` in the worker, ``answer`` for a model's
answer) gets, as it is rendered, the directive that names its metrics and dimensions: one
line is both the log and the metric, and nothing else is written or sent.

The format (AWS docs, "Specification: Embedded metric format"): ``_aws.Timestamp`` in
milliseconds; ``CloudWatchMetrics``, a list of directives with a ``Namespace``, dimension
sets (lists of at most 30 names) and at most 100 metric definitions; every dimension and
metric named there is also a member of the line itself, a dimension's value a string (at
most 1,024 characters), a metric's a number.

Dimensions are chosen so the count of metrics stays bounded: the service, the interaction
type, the command or route template (the bot's own, a fixed set), the model (from the
configured list) and the outcome (an enum); never an id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from services.core.discord.models import InteractionType

NAMESPACE: Final = "DiscordBot"
MAX_DIMENSION_VALUE: Final = 1024
# What a dimension reads when its field is missing (a forged request has no type).
NONE: Final = "none"


@dataclass(frozen=True, slots=True)
class Measure:
    """A metric: its name, the field of the line it reads (None: counts the line), its unit."""

    name: str
    field: str | None
    unit: str


@dataclass(frozen=True, slots=True)
class Directive:
    """The dimensions (name, field of the line) and metrics of one kind of canonical line."""

    dimensions: tuple[tuple[str, str], ...]
    measures: tuple[Measure, ...]


COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"

DIRECTIVES: Final[Mapping[str, Directive]] = {
    "interaction": Directive(
        (("InteractionType", "interaction_type"), ("Outcome", "outcome")),
        (
            Measure("Interactions", None, COUNT),
            Measure("AckLatency", "duration_ms", MILLISECONDS),
        ),
    ),
    "job": Directive(
        (("Command", "command"), ("Outcome", "outcome")),
        (
            Measure("Jobs", None, COUNT),
            Measure("JobDuration", "duration_ms", MILLISECONDS),
            Measure("QueueWait", "queue_wait_ms", MILLISECONDS),
        ),
    ),
    "answer": Directive(
        (("Model", "model"), ("Outcome", "outcome")),
        (
            Measure("Answers", None, COUNT),
            Measure("TokensIn", "tokens_in", COUNT),
            Measure("TokensOut", "tokens_out", COUNT),
            Measure("TimeToFirstToken", "ttft_ms", MILLISECONDS),
        ),
    ),
}


def _dimension(field: str, value: Any) -> str:
    if value is None:
        return NONE
    if field == "interaction_type" and type(value) is int:
        try:
            return InteractionType(value).name
        except ValueError:
            return "UNKNOWN"
    if isinstance(value, Enum):
        value = value.value
    return str(value)[:MAX_DIMENSION_VALUE]


def embed(event: dict[str, Any], service: str, timestamp: float) -> None:
    """Add the metric directive to a canonical line (``event``, before it is rendered), in
    place; any other line is left as it is."""
    directive = DIRECTIVES.get(event.get("event", ""))
    if directive is None:
        return
    dimensions = {"Service": service}
    for name, field in directive.dimensions:
        dimensions[name] = _dimension(field, event.get(field))
    metrics = []
    for measure in directive.measures:
        value = 1 if measure.field is None else event.get(measure.field)
        if type(value) not in (int, float):
            continue  # not measured on this line (a stopped answer has no first token)
        event[measure.name] = value
        metrics.append({"Name": measure.name, "Unit": measure.unit})
    event.update(dimensions)
    event["_aws"] = {
        "Timestamp": int(timestamp * 1000),
        "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [list(dimensions)], "Metrics": metrics}
        ],
    }
