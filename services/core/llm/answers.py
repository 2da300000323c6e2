"""What an answer leaves behind in the LLM table: the Stop signal, and the exchange that
the Follow up button continues.

    stop:<answer>   put by the API when the answer's author clicks Stop; the worker's
                    streaming loop reads it on every edit tick and closes the model stream
    talk:<answer>   the question and answer (text only), its author, and the model, for a
                    follow-up question; kept ``LLM_HISTORY_SECONDS``

Both expire through the table's TTL (``expires_at``). An answer's id is its interaction's id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from services.core.llm.models import Turn
from services.core.llm.prompts import NONCE_BYTES, close_blocks

# A Stop flag outlives any answer (a stream that long would have hit LLM_TIMEOUT or the
# output budget), and is then deleted by the TTL.
STOP_KEEP: Final = 3600
# DynamoDB items are at most 400 KB; an exchange kept for follow-ups is far smaller, and a
# long history costs tokens at every follow-up: keep the latest characters.
MAX_HISTORY_CHARS: Final = 24_000
_CUT_NOTE: Final = "(cut short)"
# What closing a cut turn's blocks adds, at most (two blocks: a question and a file).
_CUT_ROOM: Final = 2 * len(f"\n{_CUT_NOTE}\n</data-{'0' * 2 * NONCE_BYTES}>")
MIN_CUT: Final = 1000  # less room than this for a cut turn: leave it out


@dataclass(frozen=True, slots=True)
class Exchange:
    user_id: str | None
    turns: Sequence[Turn]


class AnswerStore:
    def __init__(
        self,
        *,
        client: Any,
        table: str,
        history_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._history_seconds = history_seconds
        self._clock = clock

    async def stop(self, answer_id: str) -> None:
        await self._client.put_item(
            TableName=self._table,
            Item={
                "id": {"S": f"stop:{answer_id}"},
                "expires_at": {"N": str(int(self._clock()) + STOP_KEEP)},
            },
        )

    async def stopped(self, answer_id: str) -> bool:
        response = await self._client.get_item(
            TableName=self._table,
            Key={"id": {"S": f"stop:{answer_id}"}},
            ConsistentRead=True,
            ProjectionExpression="id",
        )
        return "Item" in response

    async def keep(self, answer_id: str, exchange: Exchange) -> None:
        turns = _trimmed([{"role": t.role, "text": t.text} for t in exchange.turns])
        item = {
            "id": {"S": f"talk:{answer_id}"},
            "turns": {"S": orjson.dumps(turns).decode()},
            "expires_at": {"N": str(int(self._clock()) + self._history_seconds)},
        }
        if exchange.user_id is not None:
            item["user_id"] = {"S": exchange.user_id}
        await self._client.put_item(TableName=self._table, Item=item)

    async def exchange(self, answer_id: str) -> Exchange | None:
        response = await self._client.get_item(
            TableName=self._table, Key={"id": {"S": f"talk:{answer_id}"}}, ConsistentRead=True
        )
        item = response.get("Item")
        # DynamoDB's TTL deletes within a few days of expiry, not at once.
        if item is None or int(item["expires_at"]["N"]) < self._clock():
            return None
        turns = [
            Turn.user(t["text"]) if t["role"] == "user" else Turn.assistant(t["text"])
            for t in orjson.loads(item["turns"]["S"])
        ]
        user = item.get("user_id", {}).get("S")
        return Exchange(user_id=user, turns=turns)


def _trimmed(turns: list[dict[str, str]]) -> list[dict[str, str]]:
    """The latest turns that fit ``MAX_HISTORY_CHARS``, starting with a user turn (every
    provider wants the conversation to open with the user). The oldest one kept may be cut:
    it keeps its start (the instruction, and the data block's opening marker) and its data
    block is closed again, so a cut never leaves a user's text outside its markers."""
    kept: list[dict[str, str]] = []
    size = 0
    for turn in reversed(turns):
        room = MAX_HISTORY_CHARS - size
        if len(turn["text"]) <= room:
            kept.append(turn)
            size += len(turn["text"])
            continue
        if room >= MIN_CUT:  # the oldest turn kept, cut: nothing older fits
            kept.append({"role": turn["role"], "text": _cut(turn["text"], room)})
        break
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


def _cut(text: str, limit: int) -> str:
    return close_blocks(text[: limit - _CUT_ROOM], _CUT_NOTE)
