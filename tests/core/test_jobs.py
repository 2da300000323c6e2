"""The job envelope: what the API writes, the worker reads back exactly; the version the
previous API wrote is still read during a rolling deploy."""

from __future__ import annotations

import json

import pytest

from devtools import interactions
from services.core.bot.routes import Defer
from services.core.discord.interaction import Interaction
from services.core.errors import JobFormatError
from services.core.jobs import Job, TaskJob, decode_any, decode_job
from tests.conftest import APPLICATION_ID


def test_round_trip_keeps_the_interaction_route_and_mode_exactly():
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 3}]
    )
    job = Job.for_route(
        Interaction.from_payload(payload),
        "component:again",
        defer=Defer.UPDATE,
        ephemeral=True,
        received_at=1700000000.5,
    )
    back = decode_job(job.encode())
    assert back.interaction.raw == payload
    assert (back.id, back.route, back.defer, back.ephemeral, back.received_at) == (
        payload["id"],
        "component:again",
        Defer.UPDATE,
        True,
        1700000000.5,
    )
    assert json.loads(job.encode())["v"] == 2


def test_a_version_1_job_from_the_previous_api_is_still_read():
    payload = interactions.command(APPLICATION_ID, "countdown")
    body = json.dumps(
        {
            "v": 1,
            "kind": "command",
            "id": payload["id"],
            "command": "countdown",
            "received_at": 5.0,
            "interaction": payload,
        }
    )
    job = decode_job(body)
    # Version 1 did not say whether the reply was ephemeral: the route decides.
    assert (job.route, job.defer, job.ephemeral) == ("command:countdown", Defer.REPLY, None)
    task = decode_any(
        json.dumps(
            {"v": 1, "kind": "task", "id": "e-1", "task": "t", "received_at": 1, "detail": {}}
        )
    )
    assert isinstance(task, TaskJob)
    assert task.name == "t"


def _envelope(**change):
    payload = interactions.command(APPLICATION_ID, "ping")
    body = {
        "v": 2,
        "kind": "interaction",
        "id": payload["id"],
        "route": "command:ping",
        "defer": "reply",
        "ephemeral": False,
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
        (_envelope(v=3), "unknown version"),
        (_envelope(v=True), "unknown version"),
        (_envelope(kind="cron"), "unknown kind"),
        (_envelope(kind="command"), "unknown kind"),
        (_envelope(route=""), "route"),
        (_envelope(defer="later"), "defer"),
        (_envelope(ephemeral="yes"), "ephemeral"),
        (_envelope(received_at="yesterday"), "received_at"),
        (_envelope(interaction={"type": 2}), "interaction"),
        (_envelope(id="123"), "id does not match"),
        (_envelope(v=1, kind="command", command=""), "command"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(body, reason):
    with pytest.raises(JobFormatError) as caught:
        decode_job(body, message_id="m-1")
    assert reason in caught.value.reason
    assert caught.value.message_id == "m-1"
