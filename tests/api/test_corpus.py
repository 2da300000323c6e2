"""Every interaction body in the corpus (tests/data/interactions: captured from Discord or
documented by it and by other libraries), signed, gets a valid interaction response from the
API on a real socket, and never a 5xx. Those that name this bot's own routes reach them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from devtools import interactions
from devtools.standin import schemas
from services.core.bot.responses import DONE_TEXT
from services.core.discord.models import MessageFlags

CORPUS = Path(__file__).resolve().parent.parent / "data" / "interactions" / "payloads.jsonl"
ENTRIES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
EPHEMERAL = int(MessageFlags.EPHEMERAL)

# What this bot answers to the payloads that name its own routes; the others (routes of other
# bots) must get a readable refusal of the right type.
EXPECTED: dict[str, tuple[int, str | None]] = {
    "hikari-real-ping": (1, None),
    "hikari-partial-ping": (1, None),
    "djs-pingRequestBody": (1, None),
    "hikari-real-ping-command": (4, "Pong!"),
    "v-docs-cardsearch-ping": (4, "Pong!"),
    "v-slashcreate-countdown": (5, None),
    "v-twilight-countdown": (5, None),
    "v-slashcreate-config-set": (5, None),
    "v-hikari-config-show": (5, None),
    "v-docs-dm-config-show": (5, None),
    "v-discordpy-config-webhook": (5, None),
    "v-serenity-countdown-foreign-options": (4, "That didn't work"),
    "v-hikari-number-role-mentionable-attachment": (4, "That didn't work"),
    # A user command named "ping" is not the /ping slash command.
    "v-docs-user-command-named-ping": (4, "isn't available"),
    "v-serenity-autocomplete-countdown": (8, None),
    "v-docs-autocomplete-config-set": (8, None),
}


def fresh(payload: dict[str, Any]) -> dict[str, Any]:
    """As SOURCES.md says: a fresh id and token, as each real delivery has."""
    sent = copy.deepcopy(payload)
    sent["id"] = interactions.snowflake()
    sent["token"] = interactions.interaction_token(sent["id"])
    return sent


def test_the_corpus_covers_every_interaction_type():
    assert len(ENTRIES) == 66
    assert {e["payload"]["type"] for e in ENTRIES} == {1, 2, 3, 4, 5}
    assert {e["payload"].get("data", {}).get("type") for e in ENTRIES} >= {1, 2, 3}
    assert all(e["source"] and e["licence"] for e in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
async def test_every_payload_gets_a_valid_interaction_response(api, entry):
    status, body, response = await api.post(fresh(entry["payload"]))
    assert status == 200, body
    assert response.content_type == "application/json"
    assert schemas().errors("create_interaction_response", body) == []
    kind = entry["payload"]["type"]
    expected_type, text = EXPECTED.get(entry["id"], (None, None))
    if expected_type is not None:
        assert body["type"] == expected_type
        if text is not None:
            assert text in body["data"]["content"]
    elif kind == 1:
        assert body == {"type": 1}
    elif kind == 4:
        # Autocomplete takes only suggestions: none, for another bot's command.
        assert body == {"type": 8, "data": {"choices": []}}
    else:
        # Another bot's command, button or form: told so privately, in words.
        assert body["type"] == 4
        assert body["data"]["flags"] == EPHEMERAL
        assert body["data"]["content"] not in ("", DONE_TEXT)
