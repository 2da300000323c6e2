"""Long replies, split into messages Discord accepts.

Message content is at most ``MAX_CONTENT_LENGTH`` characters (Discord docs, "Message
Resource"); a longer reply goes as several messages. ``split_content`` cuts the text where a
reader would: between paragraphs, else between lines, else between words, and only cuts a word
that is longer than a whole part. It is greedy (each part takes the latest good cut that fits,
so there are few parts) and keeps Markdown code blocks whole-looking: a part that ends inside a
block closes it, and the next part opens it again in the same language.

The model of a code block is deliberately simple: a line that starts with ``` opens one, and the
next line that starts with ``` closes it. No cut makes or breaks a fence line, except in a run
of backticks longer than a part, where every cut would: that text is cut all the same.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Final

from services.core.discord.messages import MAX_CONTENT_LENGTH, Message

_FENCE: Final = "```"
# Closes a block a part stops inside, so Discord does not show the next part's text as code.
_CLOSE: Final = "\n" + _FENCE
# Discord highlights a block only when ``` is followed by a bare language name (```python);
# any other text on that line is shown as code, so it is not copied into the next part. The
# length cap is ours: it bounds the room a re-opened fence takes from every part.
_LANGUAGE: Final = re.compile(r"[A-Za-z0-9_+\-.#]{1,20}")
# The worst-case fences (```, a 20-character language and a newline at the start, a newline and
# ``` at the end) take 28 characters; this leaves every part room for text.
MIN_LIMIT: Final = 50
# Only spaces and newlines are cut at; tabs and other whitespace stay part of the text.
_SEPARATORS: Final = re.compile(r"[ \n]+")
_PARAGRAPH, _LINE, _SPACE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Block:
    start: int  # where its opening line starts
    header_end: int  # where its opening line ends
    end: int  # where its closing line starts (the end of the text when it is never closed)
    reopen: str  # what starts the next part when a cut falls inside it


@dataclass(frozen=True, slots=True)
class _Cut:
    end: int  # the part's text ends here
    resume: int  # the next part's text starts here; between the two is dropped whitespace
    block: _Block | None  # the block left open at the cut, to close and re-open


class _Layout:
    """Where the code blocks and the fence lines of one text are."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.blocks: list[_Block] = []
        fence_lines: set[int] = set()
        opening: tuple[int, int, str] | None = None
        start = 0
        for line in text.split("\n"):
            end = start + len(line)
            if line.startswith(_FENCE):
                fence_lines.add(start)
                if opening is None:
                    opening = (start, end, line)
                else:
                    self.blocks.append(_Block(opening[0], opening[1], start, _reopen(opening[2])))
                    opening = None
            start = end + 1
        if opening is not None:
            self.blocks.append(_Block(opening[0], opening[1], len(text), _reopen(opening[2])))
        self.fence_lines = frozenset(fence_lines)
        # A block counts as open once its whole ``` is behind the cut.
        self._opened = [block.start + len(_FENCE) for block in self.blocks]

    def block_at(self, position: int) -> _Block | None:
        """The block a part ending at ``position`` would leave open."""
        i = bisect.bisect_right(self._opened, position) - 1
        if i >= 0 and position <= self.blocks[i].end:
            return self.blocks[i]
        return None

    def keeps_fences(self, position: int) -> bool:
        """Whether a cut here leaves every fence line a fence line, and makes no new one."""
        if position - 1 in self.fence_lines or position - 2 in self.fence_lines:
            return False  # it would break the ``` that starts a line
        # Text after a cut starts a line of its own in the next part: ``` there would open a block.
        return not (self.text.startswith(_FENCE, position) and self.text[position - 1] != "\n")


def _reopen(opening_line: str) -> str:
    language = opening_line[len(_FENCE) :]
    return _FENCE + (language if _LANGUAGE.fullmatch(language) else "") + "\n"


def _check(limit: int) -> None:
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} leaves no room for code fences (minimum {MIN_LIMIT})")


def _boundary(layout: _Layout, start: int, prefix: int, limit: int) -> _Cut | None:
    """The best cut at whitespace, or None when no whitespace cut fits."""
    text = layout.text
    room = limit - prefix
    # (inside a block, kind, -position, cut): the smallest is the best reasonable cut.
    reasonable: list[tuple[bool, int, int, _Cut]] = []
    latest: _Cut | None = None
    for match in _SEPARATORS.finditer(text, start):
        end = match.start()
        if end - start > room:
            break
        if end == start:
            continue  # the indentation the part starts with: cutting there leaves nothing
        run = match.group()
        newlines = run.count("\n")
        if newlines:
            kind = _PARAGRAPH if newlines > 1 else _LINE
            # The next line's indentation is kept: in a code block it is meaning.
            resume = end + run.rfind("\n") + 1
        else:
            kind = _SPACE
            resume = match.end()
            if text.startswith(_FENCE, resume):
                continue  # the next part would start with ```, a fence that was not there
        block = layout.block_at(end) if resume < len(text) else None
        if block is not None and (end <= block.header_end or resume >= block.end):
            continue  # right after the opening line or before the closing one: an empty block
        if end - start + (len(_CLOSE) if block else 0) > room:
            continue
        cut = _Cut(end, resume, block)
        latest = cut
        # A cut that leaves a part less than half full makes more parts than it saves.
        if prefix + end - start >= limit // 2:
            reasonable.append((block is not None, kind, -end, cut))
    if reasonable:
        return min(reasonable, key=lambda candidate: candidate[:3])[3]
    return latest


def _hard_cut(layout: _Layout, start: int, prefix: int, limit: int) -> _Cut:
    """A cut inside a word longer than a part: the latest that fits."""
    text = layout.text
    room = limit - prefix
    keeps_fences: _Cut | None = None
    fits: _Cut | None = None
    for position in range(start + room, start, -1):
        block = layout.block_at(position)
        if position - start + (len(_CLOSE) if block else 0) > room:
            continue
        cut = _Cut(position, position, block)
        fits = fits or cut
        if not layout.keeps_fences(position):
            continue
        if text[position - 1] not in " \n" and text[position] not in " \n":
            return cut
        keeps_fences = keeps_fences or cut  # a run of whitespace longer than a part
    # Without a cut that keeps the fences (only a run of backticks longer than a part has
    # none), one that fits: the text must go out all the same.
    last_resort = keeps_fences or fits
    assert last_resort is not None, "MIN_LIMIT leaves room for one character and the fences"
    return last_resort


def split_content(text: str, limit: int = MAX_CONTENT_LENGTH) -> list[str]:
    """``text`` as parts of at most ``limit`` characters, in order; ``[text]`` when it fits.

    Each part ends at the latest cut that fits, preferring, in this order: a blank line, a line
    break, a space, outside a code block; the same inside one; then whichever whitespace cut
    is latest, if none leaves the part at least half full; then a cut inside a word. The
    spaces and newlines cut at are dropped (a line's indentation is not: it is kept on the
    next part). A part that ends inside a code block ends with a closing fence line, and the
    next starts with the block's opening fence (with its language), both counted in ``limit``.
    """
    _check(limit)
    if len(text) <= limit:
        return [text]
    layout = _Layout(text)
    parts: list[str] = []
    start, prefix = 0, ""
    while len(prefix) + len(text) - start > limit:
        cut = _boundary(layout, start, len(prefix), limit) or _hard_cut(
            layout, start, len(prefix), limit
        )
        parts.append(prefix + text[start : cut.end] + (_CLOSE if cut.block else ""))
        if cut.resume == len(text):
            return parts  # what was left is the whitespace dropped at this cut
        start, prefix = cut.resume, cut.block.reopen if cut.block else ""
    parts.append(prefix + text[start:])
    return parts


def split_first(text: str, limit: int = MAX_CONTENT_LENGTH) -> tuple[str, str]:
    """The first part of ``text`` as ``split_content`` cuts it, and the text that follows
    (the block it leaves open reopened first); ``(text, "")`` when it fits. For text that
    keeps growing, such as a streamed answer: each part is cut once, when the text outgrows
    it, and never moves again."""
    _check(limit)
    if len(text) <= limit:
        return text, ""
    layout = _Layout(text)
    cut = _boundary(layout, 0, 0, limit) or _hard_cut(layout, 0, 0, limit)
    head = text[: cut.end] + (_CLOSE if cut.block else "")
    return head, (cut.block.reopen if cut.block else "") + text[cut.resume :]


def split_message(message: Message, limit: int = MAX_CONTENT_LENGTH) -> list[Message]:
    """``message`` as messages whose content fits; ``[message]`` when it fits already.

    Every part keeps the message's ``ephemeral`` and ``allowed_mentions``; its embeds,
    components and files go with the last part, so buttons and attachments sit under the end
    of the text.
    """
    _check(limit)
    if message.content is None or len(message.content) <= limit:
        return [message]
    *head, last = split_content(message.content, limit)
    return [
        *(replace(message, content=part, embeds=(), components=(), files=()) for part in head),
        replace(message, content=last),
    ]
