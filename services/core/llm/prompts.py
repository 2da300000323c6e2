"""Prompt templates, declared in one place by the bot's author, as commands are.

A template is the bot's own instruction, with ``{placeholders}`` for values the bot chooses
(a language from a command's choices), and named data slots for what users supply (a topic,
a message, a file). Filling it makes one user turn: the instruction first, then each piece of
data between labelled markers. User text never reaches the system prompt and never fills a
placeholder, so it cannot rewrite the instruction; the system prompt tells the model that
text between the markers is only to be read (``settings.BASE_SYSTEM_PROMPT``).

    prompts = Prompts()
    prompts.add("translate", "Translate the text into {language}.", data=("text",))
    turn = prompts["translate"].turn(values={"language": "French"}, data={"text": text})
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from services.core.llm.errors import PromptError
from services.core.llm.models import Part, Turn

_LABEL: Final = re.compile(r"[a-z][a-z0-9 _-]{0,39}")
# Each turn's blocks are marked with a random tag (``<data-3f9a0c1e label="file">``): text
# that would close a block has to name a tag it never saw. Anything that looks like a
# marker all the same is made harmless (a zero-width space inside it), so the model sees the
# text as written and it stays inside its block.
_MARKERS: Final = re.compile(r"<(\s*/?\s*)(data)", re.IGNORECASE)
_OPENED: Final = re.compile(r"<data-([0-9a-f]{8}) label=")
NONCE_BYTES: Final = 4


def data_block(label: str, text: str, tag: str) -> str:
    """``text`` between markers that say what it is; it cannot close them itself."""
    safe = _MARKERS.sub(lambda m: f"<{m.group(1)}\u200b{m.group(2)}", text)
    return f'<data-{tag} label="{label}">\n{safe}\n</data-{tag}>'


def close_blocks(text: str, note: str) -> str:
    """``text`` (cut short) with each data block it leaves open closed after ``note``."""
    unclosed = [t for t in _OPENED.findall(text) if f"</data-{t}>" not in text]
    return text + "".join(f"\n{note}\n</data-{t}>" for t in unclosed)


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    instruction: str
    data: tuple[str, ...]

    def turn(
        self,
        *,
        values: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        question: str | None = None,
        extra: Sequence[Part] = (),
    ) -> Turn:
        """The user turn: the instruction with ``values``, then each data slot's text, then
        the user's own ``question`` (theirs to ask: not data), then ``extra`` parts (an
        image)."""
        values = dict(values or {})
        data = dict(data or {})
        wanted = _placeholders(self.instruction)
        if set(values) != wanted:
            raise PromptError(self.name, f"needs values {sorted(wanted)}, got {sorted(values)}")
        unknown = set(data) - set(self.data)
        if unknown:
            raise PromptError(self.name, f"has no data slot {sorted(unknown)}")
        text = self.instruction.format(**values)
        tag = secrets.token_hex(NONCE_BYTES)
        blocks = [data_block(label, data[label], tag) for label in self.data if label in data]
        asked = [question] if question else []
        return Turn.user("\n\n".join([text, *blocks, *asked]), *extra)


def _placeholders(instruction: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(instruction) if name}


class Prompts:
    """The bot's prompt templates, by name."""

    def __init__(self) -> None:
        self._prompts: dict[str, Prompt] = {}

    def add(self, name: str, instruction: str, *, data: Sequence[str] = ()) -> Prompt:
        if name in self._prompts:
            raise PromptError(name, "declared twice")
        for label in data:
            if not _LABEL.fullmatch(label):
                raise PromptError(name, f"data label {label!r} must be short lowercase words")
        try:
            _placeholders(instruction)
        except ValueError as exc:
            raise PromptError(name, f"instruction is not a valid template: {exc}") from None
        prompt = Prompt(name, instruction.strip(), tuple(data))
        self._prompts[name] = prompt
        return prompt

    def __getitem__(self, name: str) -> Prompt:
        try:
            return self._prompts[name]
        except KeyError:
            raise PromptError(name, "is not declared") from None

    def __contains__(self, name: object) -> bool:
        return name in self._prompts
