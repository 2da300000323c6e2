"""The canonical log lines carry their metrics in CloudWatch's Embedded Metric Format."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from services.api.interactions import Outcome
from services.core.config import LogSettings
from services.core.env import Env
from services.core.errors import ConfigError
from services.core.logs import configure_logging, flush_logs, line_writer
from tests.emf import emf_problems

IDS = ("interaction_id", "guild_id", "user_id", "job_id")


def lines_logged(service: str | None, write) -> list[dict]:
    out = io.StringIO()
    configure_logging(LogSettings(level="INFO", format="json"), stream=out, metrics_service=service)
    try:
        write()
        flush_logs()
    finally:
        configure_logging(LogSettings(level="INFO", format="json"), stream=io.StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_canonical_line_is_a_valid_metric_with_bounded_dimensions():
    def write():
        interaction = line_writer("api.interactions")
        interaction(
            "interaction",
            {
                "interaction_type": 2,
                "outcome": Outcome.DEFERRED,
                "status": 200,
                "duration_ms": 1.25,
                "interaction_id": "1576738329016139777",
                "guild_id": "900000000000000001",
            },
        )
        interaction("interaction", {"outcome": Outcome.REJECTED, "status": 401, "duration_ms": 0.2})
        log = structlog.get_logger("worker")
        log.info(
            "job",
            command="countdown",
            outcome="completed",
            duration_ms=1003.1,
            queue_wait_ms=12.5,
            job_id="j-1",
        )
        log.info(
            "answer",
            kind="ask",
            model="standin-chat",
            outcome="stopped",
            tokens_in=12,
            tokens_out=40,
            ttft_ms=None,
        )
        log.info("worker_started", concurrency=16)

    deferred, forged, job, answer, other = lines_logged("api", write)
    for line in (deferred, forged, job, answer):
        assert emf_problems(line) == [], line
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "DiscordBot"
        dimensions = directive["Dimensions"][0]
        assert "Service" in dimensions
        assert not set(dimensions) & set(IDS)  # never an id: the metric count stays bounded
    assert (deferred["InteractionType"], deferred["Outcome"], deferred["AckLatency"]) == (
        "APPLICATION_COMMAND",
        "deferred",
        1.25,
    )
    assert (forged["InteractionType"], forged["Outcome"]) == ("none", "rejected")
    assert (job["Command"], job["JobDuration"], job["QueueWait"], job["Jobs"]) == (
        "countdown",
        1003.1,
        12.5,
        1,
    )
    # a stopped answer had no first token: that metric is left out, the others stay
    names = {m["Name"] for m in answer["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"Answers", "TokensIn", "TokensOut"}
    assert "_aws" not in other
    assert emf_problems(other) == ["_aws: a member object is required"]


def test_without_a_service_named_no_metrics_are_written():
    def write():
        line_writer("api.interactions")("interaction", {"outcome": "replied", "duration_ms": 1.0})

    (line,) = lines_logged(None, write)
    assert "_aws" not in line


def test_the_checker_catches_what_cloudwatch_refuses():
    line = {
        "_aws": {
            "Timestamp": 1_700_000_000,  # seconds, not milliseconds
            "CloudWatchMetrics": [
                {
                    "Namespace": "X",
                    "Dimensions": [["Service", "Missing"]],
                    "Metrics": [{"Name": "Latency", "Unit": "Millis"}, {"Name": "Gone"}],
                }
            ],
        },
        "Service": "api",
        "Latency": "12",
    }
    problems = emf_problems(line)
    assert any(p.startswith("_aws.Timestamp") for p in problems)
    assert any(p.startswith("Missing:") for p in problems)
    assert any("unit 'Millis'" in p for p in problems)
    assert any(p.startswith("Latency: a metric needs a number") for p in problems)
    assert any(p.startswith("Gone:") for p in problems)


def test_values_cloudwatch_would_refuse_never_spoil_a_line():
    def write():
        log = structlog.get_logger("worker")
        # Discord's Retry-After can say anything; a duration can be NaN; a count too large
        log.warning(
            "discord_rate_limited", route="PATCH /x", scope="user", retry_after=float("inf")
        )
        log.info("job", command="caf\u00e9\x07", outcome="   ", duration_ms=float("nan"))
        log.info("answer", model="m", outcome="completed", tokens_in=2**64, _aws={"x": 1})
        log.info("job", command="countdown", outcome="completed", duration_ms=2.5)

    throttled, job, unrenderable, after = lines_logged("worker", write)
    for line in (throttled, job, after):
        assert emf_problems(line) == [], line
    assert throttled["DiscordRateLimited"] == 1
    assert "RetryAfter" not in throttled  # infinite: left out, the count kept
    assert (job["Command"], job["Outcome"], "JobDuration" in job) == ("caf??", "none", False)
    # a line no JSON can hold is reported as such, and the lines after it still come
    assert unrenderable["event"] == "log_line_unrenderable"
    assert unrenderable["original_event"] == "answer"
    assert after["JobDuration"] == 2.5


@pytest.mark.parametrize(
    ("namespace", "accepted"),
    [
        ("DiscordBot-dev", True),
        ("Bots/discord #1:prod", True),
        (":DiscordBot", False),
        ("AWS/Lambda", False),
        ("aws/lambda", False),
        ("Discord\u00e9", False),
        ("x" * 256, False),
    ],
)
def test_the_metrics_namespace_follows_cloudwatchs_rules(namespace, accepted):
    env = Env({"METRICS_NAMESPACE": namespace})
    if accepted:
        assert LogSettings.from_env(env).metrics_namespace == namespace
    else:
        with pytest.raises(ConfigError, match="METRICS_NAMESPACE"):
            LogSettings.from_env(env)
