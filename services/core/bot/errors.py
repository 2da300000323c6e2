"""Errors about what a bot declares and what interactions ask of it.

BotError
├── CommandDefinitionError   a declaration Discord would refuse (raised at import time)
├── UnknownCommandError      an interaction names a command or context menu this bot lacks
├── OptionValueError         an interaction's options do not fit the declaration
│                            (usually: commands changed and were not registered again)
├── ExpiredCustomId          a component's or modal's custom_id that no route accepts
│                            (unknown, another version, altered, or its signature is wrong)
├── NotConfiguredError       a job asked for a resource the worker was not given
└── ResponseNotAllowed       a handler answered in a way Discord does not allow here
                             (a modal after a deferral, an update with no message to update)
"""

from __future__ import annotations


class BotError(Exception):
    """Base for command errors."""


class CommandDefinitionError(BotError):
    pass


class UnknownCommandError(BotError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown command {name!r}")


class OptionValueError(BotError):
    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"option {option!r} {problem}")


class ExpiredCustomId(BotError):  # noqa: N818 - reads as what the user is told
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"custom_id {name!r} not accepted: {reason}")


class NotConfiguredError(BotError):
    def __init__(self, what: str, variable: str) -> None:
        self.what = what
        self.variable = variable
        super().__init__(f"{what} is not available to jobs: set {variable}")


class ResponseNotAllowed(BotError):  # noqa: N818
    def __init__(self, route: str, problem: str) -> None:
        self.route = route
        self.problem = problem
        super().__init__(f"{route}: {problem}")
