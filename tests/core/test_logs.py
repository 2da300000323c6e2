"""The scrubber: whatever a library puts in an error, no token reaches the output."""

from __future__ import annotations

import io
import json

import structlog

from devtools.interactions import interaction_token
from services.core.config import LogSettings
from services.core.logs import configure_logging, scrub_text
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
