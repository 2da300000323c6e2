"""What the bot asks a model and what comes back, the same for every provider.

A provider turns a ``ChatRequest`` into a stream of ``TextDelta`` events, ending with one
``Finished`` (why it stopped, and the tokens counted). Leaving the ``async with`` closes the
model's stream, whatever the provider: that is how Stop ends generation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Image:
    """An image for a vision model, sent inline (every provider accepts base64 data)."""

    data: bytes = field(repr=False)
    media_type: str  # image/png, image/jpeg, image/gif or image/webp


Part = Text | Image


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    parts: Sequence[Part]

    @classmethod
    def user(cls, *parts: Part | str) -> Turn:
        return cls("user", tuple(Text(p) if isinstance(p, str) else p for p in parts))

    @classmethod
    def assistant(cls, text: str) -> Turn:
        return cls("assistant", (Text(text),))

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, Text))


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    # The operator's (or server's) instructions. User text never goes here: it is a user
    # turn, so a model told to treat it as data can tell the two apart.
    system: str
    turns: Sequence[Turn]
    max_output_tokens: int


class StopReason(StrEnum):
    END = "end"  # the model finished its answer
    LENGTH = "length"  # it reached max_output_tokens
    REFUSED = "refused"  # a content filter or the model's own refusal ended it


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    reason: StopReason
    input_tokens: int = 0
    output_tokens: int = 0


Event = TextDelta | Finished


class Provider(Protocol):
    """A model service. ``stream`` raises ``ModelError`` (``services.core.llm.errors``) for
    every failure of the service, before or during the stream, never its client's errors."""

    name: str

    def stream(self, request: ChatRequest) -> AbstractAsyncContextManager[AsyncIterator[Event]]: ...
