"""Metrics as CloudWatch Embedded Metric Format, carried by the log lines.

CloudWatch Logs turns a JSON log line with an ``_aws`` member into metrics, with no agent
and no header (AWS docs, "Embedded metric format": "No setup is required"; on Fargate the
awslogs driver sends stdout to CloudWatch Logs, where the lines are parsed). So each line
that counts something (``interaction`` in the API, ``job`` in the worker, ``answer`` for a
model's answer, ``discord_request`` for each request to Discord...) gets, as it is rendered,
the directive that names its metrics and dimensions: one line is both the log and the
metric, and nothing else is written or sent.

The format (AWS docs, "Specification: Embedded metric format"): ``_aws.Timestamp`` in
milliseconds; ``CloudWatchMetrics``, a list of directives with a ``Namespace``, dimension
sets (lists of at most 30 names) and at most 100 metric definitions; every dimension and
metric named there is also a member of the line itself, a dimension's value a string (at
most 1,024 characters), a metric's a number.

Dimensions are chosen so the count of metrics stays bounded: the service, the interaction
type, the command or route template (the bot's own, a fixed set), the model (from the
configured list), an HTTP status, and enums (outcome, refusal reason, rate-limit scope);
never an id. Each directive also rolls up to fewer dimensions (every outcome of the service,
say), the series alarms watch.

The directive's JSON is the same for every line of a kind, so it is rendered once and
kept: embedding costs a line a few dictionary writes, not a second serialisation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

import orjson

from services.core.discord.models import InteractionType

MAX_DIMENSION_VALUE: Final = 1024
# What a dimension reads when its field is missing (a forged request has no type).
NONE: Final = "none"
SERVICE: Final = "Service"

COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"
SECONDS: Final = "Seconds"


@dataclass(frozen=True, slots=True)
class Measure:
    """A metric: its name, the field of the line it reads (None: counts the line), its unit,
    and, if it is counted only on some lines, the field and the values that select them."""

    name: str
    field: str | None
    unit: str
    only_if: tuple[str, frozenset[str]] | None = None


@dataclass(frozen=True, slots=True)
class Directive:
    """The dimensions (name, field of the line) and metrics of one kind of line. The metrics
    are kept by every dimension (with the service) and by each set in ``rollups``."""

    dimensions: tuple[tuple[str, str], ...]
    measures: tuple[Measure, ...]
    rollups: tuple[tuple[str, ...], ...] = ()

    def dimension_sets(self) -> list[list[str]]:
        full = [SERVICE, *(name for name, _ in self.dimensions)]
        return [full, *([SERVICE, *rollup] for rollup in self.rollups)]


DIRECTIVES: Final[Mapping[str, tuple[Directive, ...]]] = {
    # The API, one line per request to /interactions.
    "interaction": (
        Directive(
            (("InteractionType", "interaction_type"), ("Outcome", "outcome")),
            (
                Measure("Interactions", None, COUNT),
                Measure("AckLatency", "duration_ms", MILLISECONDS),
                Measure("EnqueueLatency", "enqueue_ms", MILLISECONDS),
            ),
            rollups=(("Outcome",), ()),
        ),
        # A command past a limit or a model budget, by which one (a fixed set of reasons).
        Directive(
            (("Reason", "reason"),),
            (Measure("Refusals", None, COUNT, only_if=("outcome", frozenset({"limited"}))),),
        ),
    ),
    # The worker, one line per job run (a retry and a parked job are outcomes of their own).
    "job": (
        Directive(
            (("Command", "command"), ("Outcome", "outcome")),
            (
                Measure("Jobs", None, COUNT),
                Measure("JobDuration", "duration_ms", MILLISECONDS),
                Measure("QueueWait", "queue_wait_ms", MILLISECONDS),
            ),
            rollups=(("Outcome",), ("Command",)),
        ),
    ),
    # A model's answer: what it cost, how soon it began.
    "answer": (
        Directive(
            (("Model", "model"), ("Outcome", "outcome")),
            (
                Measure("Answers", None, COUNT),
                Measure("TokensIn", "tokens_in", COUNT),
                Measure("TokensOut", "tokens_out", COUNT),
                Measure("TimeToFirstToken", "ttft_ms", MILLISECONDS),
            ),
            rollups=(("Model",),),
        ),
    ),
    # The model server refused or failed a request and it is tried again.
    "model_retry": (Directive((("Kind", "kind"),), (Measure("ModelRetries", None, COUNT),)),),
    # Every answer Discord gave (each attempt), by route template and status.
    "discord_request": (
        Directive(
            (("Route", "route"), ("Status", "status")),
            (
                Measure("DiscordRequests", None, COUNT),
                Measure("DiscordLatency", "duration_ms", MILLISECONDS),
            ),
            rollups=(("Status",),),
        ),
    ),
    # A 429, apart: by scope (user, shared, global) and route.
    "discord_rate_limited": (
        Directive(
            (("Route", "route"), ("Scope", "scope")),
            (
                Measure("DiscordRateLimited", None, COUNT),
                Measure("RetryAfter", "retry_after", SECONDS),
            ),
            rollups=((),),
        ),
    ),
    # No answer at all (refused connection, timeout): Discord unreachable.
    "discord_connection_error": (
        Directive((("Route", "route"),), (Measure("DiscordConnectionErrors", None, COUNT),)),
    ),
    # The scheduler, one line per event.
    "scheduled_event": (
        Directive(
            (("Kind", "kind"), ("Outcome", "outcome")),
            (
                Measure("ScheduledEvents", None, COUNT),
                Measure("EventDuration", "duration_ms", MILLISECONDS),
            ),
            rollups=(("Outcome",),),
        ),
    ),
}

_INTERACTION_TYPES: Final = {int(t): t.name for t in InteractionType}
# CloudWatch refuses a dimension value that is not printable ASCII with something besides
# spaces (the Dimension type's rules), and with it the line's every metric.
_NOT_PRINTABLE: Final = re.compile(r"[^\x20-\x7e]")
# The magnitudes CloudWatch stores (MetricDatum: 8.515920e-109 to 1.174271e+108, or 0).
_LARGEST: Final = 1e108


def _dimension(field: str, value: Any) -> str:
    if value is None or value == "":
        return NONE
    if field == "interaction_type" and type(value) is int:
        return _INTERACTION_TYPES.get(value, "UNKNOWN")
    if isinstance(value, Enum):
        value = value.value
    text = _NOT_PRINTABLE.sub("?", str(value)[:MAX_DIMENSION_VALUE])
    return text if text.strip() else NONE


def _storable(value: Any) -> bool:
    """A number CloudWatch takes as a metric value (and JSON holds: no NaN, no infinity)."""
    if type(value) is int:
        return -_LARGEST <= value <= _LARGEST
    return type(value) is float and math.isfinite(value) and abs(value) <= _LARGEST


# The rendered ``CloudWatchMetrics`` list, by kind of line and the metrics it carries: a
# handful of shapes per kind.
_rendered: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _directives_json(namespace: str, kind: str, names: tuple[str, ...]) -> str:
    text = _rendered.get((namespace, kind, names))
    if text is None:
        directives = []
        for directive in DIRECTIVES[kind]:
            metrics = [
                {"Name": m.name, "Unit": m.unit} for m in directive.measures if m.name in names
            ]
            if metrics:
                directives.append(
                    {
                        "Namespace": namespace,
                        "Dimensions": directive.dimension_sets(),
                        "Metrics": metrics,
                    }
                )
        text = _rendered[namespace, kind, names] = orjson.dumps(directives).decode()
    return text


def embed(event: dict[str, Any], service: str, namespace: str, timestamp: float) -> str | None:
    """Add a line's dimensions and metric values to ``event`` (before it is rendered), in
    place, and return its ``_aws`` member as JSON text (``,"_aws":{...}``) to close the
    rendered object with; None for a line that carries no metric."""
    kind = event.get("event", "")
    directives = DIRECTIVES.get(kind)
    if directives is None:
        return None
    names: list[str] = []
    get = event.get
    for directive in directives:
        measured = len(names)
        for measure in directive.measures:
            only_if = measure.only_if
            if only_if is not None and get(only_if[0]) not in only_if[1]:
                continue
            value = 1 if measure.field is None else get(measure.field)
            if _storable(value):
                event[measure.name] = value
                names.append(measure.name)
            # else not measured on this line (a stopped answer has no first token)
        if len(names) > measured:
            for name, field in directive.dimensions:
                event[name] = _dimension(field, get(field))
    if not names:
        return None
    if "_aws" in event:  # a field of that name would be a second, conflicting member
        event["_aws_field"] = event.pop("_aws")
    event[SERVICE] = service
    metrics = _directives_json(namespace, kind, tuple(names))
    return f',"_aws":{{"Timestamp":{int(timestamp * 1000)},"CloudWatchMetrics":{metrics}}}'
