"""The job envelope: what the API writes, the worker reads back exactly, and nothing else.

Anyone who can send to the queue must not be able to make the worker act: every job is
signed with the job key, and an interaction job carries Discord's own signature, checked
again by the worker."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time

import pytest
from nacl.signing import SigningKey

from devtools import interactions
from services.core.bot.routes import Defer
from services.core.discord.interaction import Interaction
from services.core.errors import JobFormatError
from services.core.jobs import FollowupsJob, Job, JobCodec, SignedBody, TaskJob, _canonical
from services.worker.authenticity import discord_check
from tests.conftest import APPLICATION_ID, JOB_SIGNING_KEY, SIGNING_KEY, signed_job

KEEP = 15 * 86400
READER = JobCodec(
    key=JOB_SIGNING_KEY.encode(),
    discord=discord_check(SIGNING_KEY.verify_key.encode(), max_age=KEEP),
)
WRITER = JobCodec(key=JOB_SIGNING_KEY.encode())


def test_an_interaction_job_comes_back_exactly():
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 3}]
    )
    body = signed_job(
        payload, "component:again", ephemeral=True, defer=Defer.UPDATE, received_at=1.5
    )
    job = READER.decode(body)
    assert isinstance(job, Job)
    assert job.interaction.raw == payload
    assert (job.id, job.route, job.defer, job.ephemeral, job.received_at) == (
        payload["id"],
        "component:again",
        Defer.UPDATE,
        True,
        1.5,
    )
    envelope = json.loads(body)
    assert envelope["v"] == 2
    assert len(envelope["mac"]) == 64


def test_followups_and_task_jobs_come_back_exactly():
    payload = interactions.command(APPLICATION_ID, "help")
    interaction = Interaction.from_payload(payload)
    job = READER.decode(signed_job(payload, "command:help"))
    assert isinstance(job, Job)
    followups = FollowupsJob(
        job.id,
        "command:help",
        ("two", "three"),
        ephemeral=True,
        mentions={"parse": []},
        received_at=2.0,
        interaction=interaction,
        signed=job.signed,
    )
    back = READER.decode(WRITER.encode(followups))
    assert isinstance(back, FollowupsJob)
    assert (back.parts, back.ephemeral, back.mentions) == (("two", "three"), True, {"parse": []})
    task = TaskJob("task:digest:2026-11-29T09:00:00Z", "digest", 3.0, {"time": "x"})
    assert READER.decode(WRITER.encode(task)) == task


def _tampered(body: str, **change) -> str:
    envelope = json.loads(body)
    envelope.update(change)
    return json.dumps(envelope)


def _with_interaction(body: str, edit) -> str:
    """The job with its Discord body changed and Discord's signature kept, signed again with
    the job key: what someone holding the job key, but not Discord's, could make."""
    envelope = json.loads(body)
    raw = json.loads(envelope["discord"]["body"])
    edit(raw)
    changed = json.dumps(raw)
    job = Job(
        envelope["id"],
        envelope["route"],
        Defer(envelope["defer"]),
        envelope["received_at"],
        Interaction.from_payload(raw),
        envelope["ephemeral"],
        SignedBody(changed, envelope["discord"]["signature"], envelope["discord"]["timestamp"]),
    )
    return WRITER.encode(job)


def test_a_job_key_alone_cannot_forge_what_discord_sent():
    # The reported attack: a member's permissions raised to ADMINISTRATOR in a queued
    # /config webhook job, and a channel id that walks the bot token to another path.
    payload = interactions.command(
        APPLICATION_ID,
        "config",
        [{"type": 1, "name": "webhook", "options": [{"name": "url", "value": "x", "type": 3}]}],
    )
    body = signed_job(payload, "command:config webhook", ephemeral=True)

    def admin(raw):
        raw["member"]["permissions"] = "8"

    with pytest.raises(JobFormatError, match="not signed by Discord"):
        READER.decode(_with_interaction(body, admin))

    def walk(raw):
        raw["channel_id"] = "1"  # a snowflake: strictly parsed, but not what Discord signed

    with pytest.raises(JobFormatError, match="not signed by Discord"):
        READER.decode(_with_interaction(body, walk))


def test_without_the_job_key_nothing_can_be_changed():
    payload = interactions.command(APPLICATION_ID, "countdown")
    body = signed_job(payload, "command:countdown")
    for change in (
        {"route": "command:config webhook"},
        {"ephemeral": True},
        {"received_at": 1e20},
        {"mac": "0" * 64},
        {"mac": None},
    ):
        with pytest.raises(JobFormatError, match="MAC"):
            READER.decode(_tampered(body, **change))
    stranger = JobCodec(key=b"not the job key, but long enough to pass")
    task = TaskJob("t", "daily-reminder", 1.0, {})
    with pytest.raises(JobFormatError, match="MAC"):
        READER.decode(stranger.encode(task))


def test_an_interaction_signed_by_another_key_or_too_old_is_refused():
    payload = interactions.command(APPLICATION_ID, "countdown")
    with pytest.raises(JobFormatError, match="not signed by Discord"):
        READER.decode(signed_job(payload, "command:countdown", key=SigningKey.generate()))
    old = JobCodec(
        key=JOB_SIGNING_KEY.encode(),
        discord=discord_check(
            SIGNING_KEY.verify_key.encode(), max_age=KEEP, clock=lambda: time.time() + KEEP + 60
        ),
    )
    with pytest.raises(JobFormatError, match="replay window"):
        old.decode(signed_job(payload, "command:countdown"))


def _legacy(**change) -> str:
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


def test_version_1_is_read_only_while_upgrading():
    with pytest.raises(JobFormatError, match="JOBS_ACCEPT_V1"):
        READER.decode(_legacy())
    upgrading = JobCodec(
        key=JOB_SIGNING_KEY.encode(),
        discord=discord_check(SIGNING_KEY.verify_key.encode(), max_age=KEEP),
        accept_v1=True,
    )
    job = upgrading.decode(_legacy())
    assert isinstance(job, Job)
    # Version 1 did not say whether the reply was ephemeral: the route decides.
    assert (job.route, job.defer, job.ephemeral) == ("command:ping", Defer.REPLY, None)
    with pytest.raises(JobFormatError, match="command"):
        upgrading.decode(_legacy(command=""))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"v": 3}, "unknown version"),
        ({"v": True}, "unknown version"),
        ({"kind": "cron"}, "MAC"),
        ({"discord": None}, "MAC"),
    ],
)
def test_malformed_envelopes_are_refused_with_a_reason(change, reason):
    body = signed_job(interactions.command(APPLICATION_ID, "ping"), "command:ping")
    with pytest.raises(JobFormatError) as caught:
        READER.decode(_tampered(body, **change), message_id="m-1")
    assert reason in caught.value.reason
    assert caught.value.message_id == "m-1"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"kind": "cron"}, "unknown kind"),
        ({"kind": "interaction", "discord": None}, "no interaction signed by Discord"),
        ({"kind": "task", "id": "", "task": "x", "detail": {}, "received_at": 1}, "without id"),
        ({"kind": "task", "id": "i", "task": "x", "detail": [], "received_at": 1}, "detail"),
        ({"kind": "task", "id": "i", "task": "x", "detail": {}, "received_at": "now"}, "number"),
        # Numbers JSON allows that are no time (and overflow a float).
        ({"kind": "task", "id": "i", "task": "x", "detail": {}, "received_at": 10**400}, "time"),
        ({"kind": "task", "id": "i", "task": "x", "detail": {}, "received_at": math.nan}, "time"),
        ({"kind": "task", "id": "i", "task": "x", "detail": {}, "received_at": -math.inf}, "time"),
    ],
)
def test_well_signed_nonsense_is_still_refused(envelope, reason):
    data = {"v": 2, **envelope}
    data["mac"] = hmac.new(JOB_SIGNING_KEY.encode(), _canonical(data), hashlib.sha256).hexdigest()
    with pytest.raises(JobFormatError, match=reason):
        READER.decode(json.dumps(data))
    for text in ("not json", "[1]"):
        with pytest.raises(JobFormatError):
            READER.decode(text)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[" * 50_000, "not JSON"),  # deeper than the JSON reader goes
        ('{"v": 2, "mac": "é"}', "MAC"),  # a MAC no hex digest is
        ('{"v": 2, "mac": "\\ud800"}', "MAC"),
        ('{"v": 2, "mac": null}', "MAC"),
    ],
)
def test_whatever_a_queue_message_holds_it_is_refused_not_a_crash(body, reason):
    with pytest.raises(JobFormatError, match=reason):
        READER.decode(body)
