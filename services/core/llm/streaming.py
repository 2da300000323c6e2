"""A model's answer, streamed into Discord as it arrives.

The reply is edited as text comes, at most once per ``interval`` per message (text that
arrives in between is coalesced into the next edit). When the text outgrows a message it is
cut where a reader would cut it (``split_content``: paragraph, line, word; code blocks closed
and reopened), that message gets its final edit and the rest continues in a follow-up. While
the answer streams, the message being written shows a cursor and the Stop button; every
message ends with one final edit that has neither. No message ever pings anyone: the text is
the model's, and a model can write ``@everyone``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

import structlog

from services.core.bot.context import Followup, JobContext
from services.core.discord.components import ActionRow, Button
from services.core.discord.errors import DiscordHTTPError
from services.core.discord.messages import MAX_CONTENT_LENGTH, MENTION_NONE, Message
from services.core.discord.split import split_first
from services.core.llm.errors import ModelError
from services.core.llm.models import Event, Finished, StopReason, TextDelta

log = structlog.get_logger("llm.streaming")

CURSOR: Final = " ▌"
_CLOSE_FENCE: Final = "\n```"
# Parts leave room for what an in-progress edit adds (a closing fence and the cursor), so the
# text a message shows while streaming is the text it keeps.
PART_LIMIT: Final = MAX_CONTENT_LENGTH - len(_CLOSE_FENCE) - len(CURSOR)
EMPTY_TEXT: Final = "(The model returned an empty answer.)"
STOPPED_NOTE: Final = "*(stopped)*"
LENGTH_NOTE: Final = "*(The answer reached its length limit.)*"
REFUSED_NOTE: Final = "*(The model stopped: its content filter ended the answer.)*"
CUT_NOTE: Final = "*(The answer was cut short: {reason})*"
UNDELIVERED_NOTE: Final = "*(The answer was cut short: Discord did not take the rest.)*"
# Discord refusals that will not pass: the message is gone (404) or out of reach (403).
_FOR_GOOD: Final = frozenset({403, 404})
# Progress edits that may fail in a row (each after the REST client's own retries) before
# the answer stops: each waits its interval, so a refusing Discord is not hammered.
MAX_FAILED_EDITS: Final = 3


@dataclass(frozen=True, slots=True)
class Streamed:
    """How an answer ended, for the log, the budget and the follow-up history."""

    text: str
    finished: Finished | None  # None: stopped, undelivered, or the model failed mid-way
    stopped: bool
    error: ModelError | None
    messages: int
    edits: int
    first_token_at: float | None  # monotonic
    first_edit_at: float | None
    undelivered: bool = False  # Discord stopped taking the answer part of the way


class _Undeliverable(Exception):  # noqa: N818 - a signal inside the writer, never raised out
    """Discord will not take the rest of this answer."""


def _open_block(text: str) -> bool:
    return sum(1 for line in text.split("\n") if line.startswith("```")) % 2 == 1


def _in_progress(text: str) -> str:
    return text + (_CLOSE_FENCE if _open_block(text) else "") + CURSOR


class AnswerWriter:
    """Writes one answer into the interaction's reply and its follow-ups.

    Discord's failures: a progress edit that fails waits its interval like any other, and
    the next carries the text too; a message that is gone or out of reach (404, 403), a
    follow-up whose creation failed (it may exist all the same: it is never sent twice), or
    MAX_FAILED_EDITS failures in a row end the answer where it is, with one last attempt to
    leave the message being written without cursor or Stop button. Once any of it has
    reached Discord, nothing raises out of the writer: running the job again would answer
    twice.
    """

    def __init__(
        self,
        ctx: JobContext,
        *,
        interval: float,
        stop_button: Button | None,
        stopped: Callable[[], Awaitable[bool]],
        final_button: Button | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ctx = ctx
        self._interval = interval
        self._stop_button = stop_button
        self._final_button = final_button
        self._stopped = stopped
        self._clock = clock
        self._text = ""  # the text of the message being written
        self._shown = ""  # what that message shows now
        self._followup: Followup | None = None  # None: the original reply is being written
        self._needs_new_message = False
        # The last message finished by a cut, and its text: where a lost rest is told of.
        self._last_part: tuple[Followup | None, str] | None = None
        self._last_edit = float("-inf")  # the last attempt to write the current message
        self._failed_edits = 0
        self._all: list[str] = []  # the whole answer, as the model sent it
        self._messages = 1
        self._edits = 0
        self._first_token: float | None = None
        self._first_edit: float | None = None
        self._arrived = asyncio.Event()
        self._finished: Finished | None = None

    @property
    def sent(self) -> bool:
        """Whether any of the answer has reached Discord (then it must not be run again)."""
        return self._first_edit is not None

    async def write(self, events: AsyncIterator[Event]) -> Streamed:
        """Read ``events`` to the end, or until Stop; the caller closes the model stream."""
        reader = asyncio.create_task(self._read(events))
        stopped = undelivered = False
        next_check = self._clock() + self._interval
        try:
            while not reader.done():
                now = self._clock()
                if now >= next_check:
                    next_check = now + self._interval
                    if await self._stop_requested():
                        stopped = True
                        break
                if self._text != self._shown and now - self._last_edit >= self._interval:
                    try:
                        await self._show()
                    except _Undeliverable:
                        undelivered = True
                        break
                wake = next_check
                if self._text != self._shown:
                    wake = min(wake, self._last_edit + self._interval)
                self._arrived.clear()
                waiter = asyncio.ensure_future(self._arrived.wait())
                await asyncio.wait(
                    {reader, waiter},
                    timeout=max(0.0, wake - self._clock()),
                    return_when="FIRST_COMPLETED",
                )
                waiter.cancel()
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(reader, return_exceptions=True)
        if undelivered:
            return await self._give_up()
        error: ModelError | None = None
        if not stopped:
            exc = reader.exception()
            if isinstance(exc, ModelError):
                if not self._all:
                    raise exc  # nothing was shown: the caller may ask the model again
                error = exc
            elif exc is not None:
                raise exc
        return await self._finish(stopped=stopped, error=error)

    async def _read(self, events: AsyncIterator[Event]) -> None:
        async for event in events:
            if isinstance(event, TextDelta):
                if self._first_token is None:
                    self._first_token = self._clock()
                self._all.append(event.text)
                self._text += event.text
                self._arrived.set()
            elif isinstance(event, Finished):
                self._finished = event

    async def _stop_requested(self) -> bool:
        try:
            return await self._stopped()
        except Exception as exc:
            # A Stop that cannot be read this tick is read on the next.
            log.warning("stop_check_failed", error=type(exc).__name__)
            return False

    async def _show(self) -> None:
        """Bring the messages up to the text: finish the ones it has outgrown, then edit the
        one being written (cursor and Stop button on)."""
        await self._close_full_parts()
        if self._text == self._shown:
            return
        text = self._text
        await self._send(
            Message(
                content=_in_progress(text),
                components=self._buttons(),
                allowed_mentions=MENTION_NONE,
            )
        )
        self._shown = text

    async def _close_full_parts(self) -> None:
        while len(self._text) > PART_LIMIT:
            # The rest is taken now: text the model sends while the part goes out is
            # appended to it.
            head, self._text = split_first(self._text, PART_LIMIT)
            await self._send(Message(content=head, allowed_mentions=MENTION_NONE), final=True)
            self._last_part = (self._followup, head)
            self._shown = ""
            self._needs_new_message = True

    def _buttons(self) -> Sequence[ActionRow | Button]:
        return [self._stop_button] if self._stop_button is not None else []

    async def _send(self, message: Message, *, final: bool = False) -> None:
        """Edit the message being written, or start the next one. Raises ``_Undeliverable``
        when the answer cannot go on; a progress edit that failed in a passing way returns
        (the next carries its text)."""
        creating = self._needs_new_message
        try:
            if creating:
                self._followup = await self._ctx.followup(message)
                self._needs_new_message = False
                self._messages += 1
            elif self._followup is not None:
                await self._followup.edit(message)
            else:
                await self._ctx.edit(message)
        except DiscordHTTPError as exc:
            self._last_edit = self._clock()  # a failure waits its interval too
            self._failed_edits += 1
            log.warning("stream_edit_failed", status=exc.status, code=exc.code)
            if not self.sent:
                raise  # nothing reached the user: the job may run again
            if (
                creating
                or final
                or exc.status in _FOR_GOOD
                or self._failed_edits >= MAX_FAILED_EDITS
            ):
                raise _Undeliverable from None
            return
        self._failed_edits = 0
        if not creating:
            self._edits += 1
        self._last_edit = self._clock()
        if self._first_edit is None:
            self._first_edit = self._last_edit

    async def _finish(self, *, stopped: bool, error: ModelError | None) -> Streamed:
        finished = None if stopped or error else self._finished
        note = _note(stopped, error, finished)
        if not "".join(self._all).strip() and not note:
            note = EMPTY_TEXT
        self._text += f"\n\n{note}" if self._text and note else note
        if not self._text:
            return self._streamed(
                stopped=stopped, error=error, finished=finished
            )  # the last part is already final
        if not self._needs_new_message:
            # The final edit keeps to the interval too.
            await asyncio.sleep(max(0.0, self._last_edit + self._interval - self._clock()))
        final = [self._final_button] if self._final_button is not None and not error else []
        try:
            await self._close_full_parts()
            await self._send(
                Message(content=self._text, components=final, allowed_mentions=MENTION_NONE),
                final=True,
            )
        except _Undeliverable:
            return await self._give_up()
        return self._streamed(stopped=stopped, error=error, finished=finished)

    async def _give_up(self) -> Streamed:
        """Tell, on the last message Discord has, that the rest did not arrive, and leave it
        without cursor or Stop button: one attempt, whatever it brings."""
        log.error("answer_undelivered", messages=self._messages, chars_sent=len(self._shown))
        if not self._needs_new_message and self._shown:
            target, text = self._followup, self._shown
        elif self._last_part is not None:
            target, text = self._last_part
        else:
            return self._undelivered()
        room = MAX_CONTENT_LENGTH - len(UNDELIVERED_NOTE) - 2
        message = Message(
            content=f"{text[:room]}\n\n{UNDELIVERED_NOTE}", allowed_mentions=MENTION_NONE
        )
        with contextlib.suppress(DiscordHTTPError):
            await asyncio.sleep(max(0.0, self._last_edit + self._interval - self._clock()))
            await (target.edit(message) if target is not None else self._ctx.edit(message))
        return self._undelivered()

    def _undelivered(self) -> Streamed:
        streamed = self._streamed(stopped=False, error=None, finished=None)
        return replace(streamed, undelivered=True)

    def _streamed(
        self, *, stopped: bool, error: ModelError | None, finished: Finished | None
    ) -> Streamed:
        return Streamed(
            text="".join(self._all),
            finished=finished,
            stopped=stopped,
            error=error,
            messages=self._messages,
            edits=self._edits,
            first_token_at=self._first_token,
            first_edit_at=self._first_edit,
        )


def _note(stopped: bool, error: ModelError | None, finished: Finished | None) -> str:
    if stopped:
        return STOPPED_NOTE
    if error is not None:
        return CUT_NOTE.format(reason=error.user_text)
    if finished is not None and finished.reason is StopReason.LENGTH:
        return LENGTH_NOTE
    if finished is not None and finished.reason is StopReason.REFUSED:
        return REFUSED_NOTE
    return ""
