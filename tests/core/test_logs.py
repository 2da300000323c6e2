"""The scrubber: whatever a library puts in an error, no token reaches the output."""

from __future__ import annotations

import io
import json

import structlog

from devtools.interactions import interaction_token
from services.core.config import LogSettings
from services.core.logs import configure_logging, flush_logs, line_writer
from services.core.redact import scrub_text
from tests.conftest import BOT_TOKEN


def test_scrub_text_removes_tokens_from_urls_and_headers():
    token = interaction_token("1234")
    text = (
        f"GET https://discord.com/api/v10/webhooks/123/{token}/messages/@original failed; "
        f"Authorization: Bot {BOT_TOKEN}; https://discord.com/api/webhooks/55/abcDEF-xyz"
    )
    scrubbed = scrub_text(text)
    assert token not in scrubbed
    assert BOT_TOKEN not in scrubbed
    assert "abcDEF-xyz" not in scrubbed
    assert "/webhooks/123/[redacted]/messages/@original" in scrubbed


def test_tracebacks_and_secret_keys_are_scrubbed_in_json_output():
    stream = io.StringIO()
    configure_logging(LogSettings(level="INFO", format="json"), stream=stream)
    token = interaction_token("99")
    try:
        raise RuntimeError(f"POST http://x/webhooks/1/{token} -> 500")
    except RuntimeError:
        structlog.get_logger().exception("boom", token=token, detail={"webhook_url": "http://x"})
    structlog.reset_defaults()
    line = json.loads(stream.getvalue().splitlines()[0])
    assert token not in stream.getvalue()
    assert line["token"] == "[redacted]"
    assert line["detail"] == {"webhook_url": "[redacted]"}
    assert "RuntimeError" in line["exception"]


def test_info_lines_are_batched_and_errors_flush_everything_in_order():
    from services.core.logs import flush_logs

    stream = io.StringIO()
    configure_logging(LogSettings(level="INFO", format="json"), stream=stream)
    log = structlog.get_logger()
    log.info("first", n=1)
    log.info("second", n=2)
    # an error is written at once, after the info lines before it
    log.error("third", n=3)
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == [
        "first",
        "second",
        "third",
    ]
    log.info("fourth")
    flush_logs()
    structlog.reset_defaults()
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [x["event"] for x in lines] == ["first", "second", "third", "fourth"]
    assert [x["level"] for x in lines] == ["info", "info", "error", "info"]
    assert all(x["timestamp"].endswith("Z") for x in lines)


def test_stdlib_lines_share_the_format_and_the_scrub():
    import logging

    stream = io.StringIO()
    configure_logging(LogSettings(level="INFO", format="json"), stream=stream)
    token = interaction_token("7")
    logging.getLogger("aiohttp.client").warning("retrying /webhooks/1/%s", token)
    structlog.reset_defaults()
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["logger"] == "aiohttp.client"
    assert line["level"] == "warning"
    assert token not in line["event"]


def test_the_canonical_line_writer_keeps_format_redaction_and_level():
    out = io.StringIO()
    configure_logging(LogSettings(level="INFO", format="json"), stream=out)
    write = line_writer("api.interactions")
    token = interaction_token("77")
    write("interaction", {"status": 200, "route": "command:ping", "Token": token, "n": [1]})
    write("interaction", {"status": 401, "reason": f"GET /webhooks/1/{token}"})
    flush_logs()
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "interaction"
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert (first["status"], first["route"], first["Token"], first["n"]) == (
        200,
        "command:ping",
        "[redacted]",
        [1],
    )
    assert token not in json.dumps(second)

    quiet = io.StringIO()
    configure_logging(LogSettings(level="WARNING", format="json"), stream=quiet)
    line_writer("api.interactions")("interaction", {"status": 200})
    flush_logs()
    assert quiet.getvalue() == ""

    configure_logging(LogSettings(level="INFO", format="console"), stream=io.StringIO())
    with structlog.testing.capture_logs() as captured:
        line_writer("api.interactions")("interaction", {"status": 200})
    assert captured == [{"event": "interaction", "status": 200, "log_level": "info"}]
