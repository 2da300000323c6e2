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
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from devtools.schema_errors import explain

SCHEMAS: Final = Path(__file__).resolve().parent / "discord-requests.json"
# What tells the branches of a union apart: a fixed ``type`` field.


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
            for e in explain(error)
        ]


@functools.cache
def schemas() -> Schemas:
    """The request schemas, loaded once per process."""
    return Schemas()


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
