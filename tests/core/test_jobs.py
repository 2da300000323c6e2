"""The job envelope: what the API writes, the worker reads back exactly."""

from __future__ import annotations

import json

import pytest

from devtools import interactions
from services.core.discord.models import Interaction
from services.core.errors import JobFormatError
from services.core.jobs import Job
from tests.conftest import APPLICATION_ID


def test_round_trip_keeps_the_interaction_exactly():
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 3}]
    )
    job = Job.for_command(Interaction.from_payload(payload), "countdown", received_at=1700000000.5)
    back = Job.decode(job.encode())
    assert back.interaction.raw == payload
    assert (back.id, back.command, back.received_at) == (payload["id"], "countdown", 1700000000.5)
    assert json.loads(job.encode())["v"] == 1


def _envelope(**change):
    payload = interactions.command(APPLICATION_ID, "ping")
    body = {
        "v": 1,
        "kind": "command",
        "id": payload["id"],
        "command": "ping",
        "received_at": 1.0,
        "interaction": payload,
    }
    body.update(change)
    return json.dumps(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (_envelope(v=2), "unknown version"),
        (_envelope(kind="cron"), "unknown kind"),
        (_envelope(command=""), "command"),
        (_envelope(received_at="yesterday"), "received_at"),
        (_envelope(interaction={"type": 2}), "interaction"),
        (_envelope(id="123"), "id does not match"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(body, reason):
    with pytest.raises(JobFormatError) as caught:
        Job.decode(body, message_id="m-1")
    assert reason in caught.value.reason
    assert caught.value.message_id == "m-1"
