"""Readable reasons for a JSON Schema failure, shared by the stand-ins' request checks."""

from __future__ import annotations

from typing import Any, Final

from jsonschema.exceptions import ValidationError

_DISCRIMINATORS: Final = frozenset({"enum", "const"})
NULL: Final = {"type": "null"}


def explain(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong. A union (``oneOf`` of message roles, ``anyOf`` of
    a value or null) fails as "not valid under any of the given schemas"; this descends into
    the branch the value was meant for: the one whose ``enum``/``const`` fields it matches
    (``role: "user"`` is a user message), else the one it got furthest into. The "or null"
    branch is never the one meant when the value is not null."""
    if not error.context:
        return [error]
    depth = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if len(branches) > 1:
        branches = {
            branch: subs
            for branch, subs in branches.items()
            if not (len(subs) == 1 and subs[0].validator == "type" and subs[0].schema == NULL)
        }
    matching = {
        branch: subs
        for branch, subs in branches.items()
        if not any(
            e.validator in _DISCRIMINATORS and len(e.absolute_path) == depth + 1 for e in subs
        )
    }
    candidates = matching or branches
    reach = {branch: min(len(e.absolute_path) for e in subs) for branch, subs in candidates.items()}
    furthest = max(reach.values())
    chosen = [branch for branch, r in reach.items() if r == furthest]
    if len(chosen) != 1 or (not matching and furthest <= depth and len(candidates) > 1):
        return [error]
    return [leaf for sub in candidates[chosen[0]] for leaf in explain(sub)]
