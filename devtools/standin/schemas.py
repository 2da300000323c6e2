"""Request-body checks from Discord's OpenAPI description.

``discord-requests.json`` (beside this file) holds the request schemas of the operations the
bot calls, cut from Discord's OpenAPI description by ``regenerate.py`` (origin and licence in
that file's ``about``). The stand-in checks every body the bot sends against them, and every
interaction response the bot gives against ``create_interaction_response``. A failure is
named where it is (``data/content: … is too long``), not at the union around it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS: Final = Path(__file__).resolve().parent / "discord-requests.json"
# What tells the branches of a union apart: a fixed ``type`` field.
_DISCRIMINATORS: Final = frozenset({"enum", "const"})


class Schemas:
    def __init__(self, path: Path = SCHEMAS) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        resource: Resource[Any] = DRAFT202012.create_resource(
            {"components": document["components"]}
        )
        self._registry: Registry[Any] = Registry().with_resource("urn:discord", resource)
        self._validators: dict[str, Draft202012Validator] = {}
        for op_id, op in document["operations"].items():
            if op["schema"] is None:
                continue
            schema = _rebase(op["schema"])
            self._validators[op_id] = Draft202012Validator(schema, registry=self._registry)

    def errors(self, operation: str, body: Any) -> list[str]:
        validator = self._validators.get(operation)
        if validator is None:
            return [] if body is None else [f"{operation} takes no body"]
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
            for error in validator.iter_errors(body)
            for e in _explain(error)
        ]


@functools.cache
def schemas() -> Schemas:
    """The request schemas, loaded once per process."""
    return Schemas()


def _explain(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong. Discord's unions (an interaction response's
    ``type``, a component's) fail as "not valid under any of the given schemas"; this descends
    into the branch the body was meant for: the one whose ``enum``/``const`` fields it matches
    (``type: 4`` is a message response), else the one it got furthest into."""
    if not error.context:
        return [error]
    depth = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
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
    if len(chosen) != 1 or (not matching and furthest <= depth):
        return [error]
    return [leaf for sub in candidates[chosen[0]] for leaf in _explain(sub)]


def _rebase(node: Any) -> Any:
    """Point the operation schema's local ``#/components`` refs at the shared resource."""
    if isinstance(node, dict):
        return {
            k: ("urn:discord" + v if k == "$ref" and v.startswith("#/") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node
