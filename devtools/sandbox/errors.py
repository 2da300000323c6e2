"""The sandbox's one error: what the page asked for cannot be done (the page shows why)."""

from __future__ import annotations


class BadRequestError(ValueError):
    """What the page asked for cannot be an interaction; ``field`` names what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
