"""Errors raised by the shared core.

    CoreError
    ├── ConfigError          a setting is missing or malformed (stops the process at start)
    ├── JobFormatError       a queue message is not a job this version understands
    ├── EnqueueError         a job could not be put on the queue within its time budget
    ├── ConfigStoreError     SSM Parameter Store could not be read or written
    └── EventPublishError    EventBridge did not take an event

Discord's own errors live in ``services.core.discord.errors``; command declaration errors
in ``services.core.bot.errors``.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base for every error the shared core raises."""


class ConfigError(CoreError):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


class JobFormatError(CoreError):
    def __init__(self, reason: str, *, message_id: str | None = None) -> None:
        self.reason = reason
        self.message_id = message_id
        super().__init__(f"not a valid job ({reason})")


class EnqueueError(CoreError):
    def __init__(self, reason: str, *, elapsed: float) -> None:
        self.reason = reason
        self.elapsed = elapsed
        super().__init__(f"could not enqueue job after {elapsed:.3f}s: {reason}")


class ConfigStoreError(CoreError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class EventPublishError(CoreError):
    def __init__(self, reason: str, *, failed: int = 1) -> None:
        self.reason = reason
        self.failed = failed
        super().__init__(f"event not published: {reason}")
