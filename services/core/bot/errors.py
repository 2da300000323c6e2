"""Errors about commands.

BotError
├── CommandDefinitionError   a declaration Discord would refuse (raised at import time)
├── UnknownCommandError      an interaction names a command this bot does not have
└── OptionValueError         an interaction's options do not fit the declaration
                             (usually: commands changed and were not registered again)
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


class NotConfiguredError(BotError):
    def __init__(self, what: str, variable: str) -> None:
        self.what = what
        self.variable = variable
        super().__init__(f"{what} is not available to jobs: set {variable}")
