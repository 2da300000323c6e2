"""Errors of the model layer.

    ModelError         the model service failed; ``kind`` says how, for the user and the logs
    PromptError        a prompt template was declared or filled wrongly (a bug in the bot)
    UnreadableFileError  a file a user gave cannot go to the model (why, for that user)

Each provider translates its client's errors into ``ModelError`` at its edge, so nothing
above it knows which library spoke to the model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429, throttled, overloaded: worth retrying after a pause
    UNAVAILABLE = "unavailable"  # 5xx, connection refused or reset: worth retrying
    TIMEOUT = "timeout"  # no answer within LLM_TIMEOUT
    TOO_LONG = "too_long"  # the prompt does not fit the model's context
    REFUSED = "refused"  # the service's content filter refused the request
    REJECTED = "rejected"  # any other 4xx: a wrong key, model name or request


RETRYABLE: Final = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE})

# What the user reads: short, and never the service's own message (it may carry the key's
# name, the account, or the prompt).
USER_TEXT: Final = {
    ErrorKind.RATE_LIMITED: "The model is busy right now (rate limited). Try again in a minute.",
    ErrorKind.UNAVAILABLE: "The model could not be reached. Try again in a minute.",
    ErrorKind.TIMEOUT: "The model took too long to answer.",
    ErrorKind.TOO_LONG: "That is too long for the model. Try a shorter question or file.",
    ErrorKind.REFUSED: "The model declined to answer that.",
    ErrorKind.REJECTED: "The model refused the request; the bot's operator can see why in the "
    "logs.",
}


class ModelError(Exception):
    def __init__(
        self, kind: ErrorKind, detail: str, *, status: int | None = None, retry_after: float = 0.0
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{kind}: {detail}")

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def user_text(self) -> str:
        return USER_TEXT[self.kind]


class PromptError(Exception):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"prompt {name!r}: {problem}")


class UnreadableFileError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def kind_for_status(status: int) -> ErrorKind:
    """What an HTTP status from a model service means, the same for every provider."""
    if status in {429, 529}:  # 529: Anthropic's "overloaded"
        return ErrorKind.RATE_LIMITED
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if status == 413:
        return ErrorKind.TOO_LONG
    if status >= 500:
        return ErrorKind.UNAVAILABLE
    return ErrorKind.REJECTED
