"""Checks from OpenAI's OpenAPI description of Chat Completions.

``openai-chat-completions.openapi.json`` (beside this file; origin and licence in
``ABOUT.md``) is loaded once per process. ``request_problems`` checks a request body against
``CreateChatCompletionRequest``, ``chunk_problems`` one streamed ``data:`` event against
``CreateChatCompletionStreamResponse``, ``completion_problems`` a whole answer against
``CreateChatCompletionResponse``. Each returns readable problems, empty when the value is
valid, named where they are (``messages/1: 'content' is a required property``), not at the
union around them.
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

DOCUMENT: Final = Path(__file__).resolve().parent / "openai-chat-completions.openapi.json"
_BASE: Final = "urn:openai-chat-completions"
REQUEST: Final = "CreateChatCompletionRequest"
CHUNK: Final = "CreateChatCompletionStreamResponse"
COMPLETION: Final = "CreateChatCompletionResponse"
# What tells the branches of a union apart: a message's ``role``, a content part's ``type``,
# each a one-value ``enum`` in OpenAI's schemas.
_DISCRIMINATORS: Final = frozenset({"enum", "const"})
_NULL: Final = {"type": "null"}
WHOLE_BODY: Final = "(body)"  # where a problem of the value itself, not of a field, is placed
_MESSAGE_LIMIT: Final = 200  # a data: URL in the instance would otherwise fill the report


class OpenAISchemas:
    def __init__(self, path: Path = DOCUMENT) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        resource: Resource[Any] = DRAFT202012.create_resource(
            {"components": _nullable(document["components"])}
        )
        registry: Registry[Any] = Registry().with_resource(_BASE, resource)
        self._validators = {
            name: Draft202012Validator(
                {"$ref": f"{_BASE}#/components/schemas/{name}"}, registry=registry
            )
            for name in (REQUEST, CHUNK, COMPLETION)
        }

    def problems(self, schema: str, value: Any) -> list[str]:
        """What is wrong with ``value`` as an instance of the component ``schema``."""
        return [
            f"{'/'.join(map(str, e.absolute_path)) or WHOLE_BODY}: {e.message[:_MESSAGE_LIMIT]}"
            for error in self._validators[schema].iter_errors(value)
            for e in _explain(error)
        ]


@functools.cache
def openai_schemas() -> OpenAISchemas:
    """The schemas, loaded once per process."""
    return OpenAISchemas()


def request_problems(body: Any) -> list[str]:
    return openai_schemas().problems(REQUEST, body)


def chunk_problems(chunk: Any) -> list[str]:
    return openai_schemas().problems(CHUNK, chunk)


def completion_problems(completion: Any) -> list[str]:
    return openai_schemas().problems(COMPLETION, completion)


def _nullable(node: Any) -> Any:
    """Read OpenAPI 3.0's ``nullable: true``, which this 3.1 document still carries and
    Draft 2020-12 ignores, as "or null": without it a chunk's ``finish_reason: null``, which
    OpenAI sends in every chunk but the last, would be invalid."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, _NULL]}
    return converted


def _explain(error: ValidationError) -> list[ValidationError]:
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
            if not (len(subs) == 1 and subs[0].validator == "type" and subs[0].schema == _NULL)
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
    return [leaf for sub in candidates[chosen[0]] for leaf in _explain(sub)]
