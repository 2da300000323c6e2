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
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from devtools.schema_errors import NULL, explain

DOCUMENT: Final = Path(__file__).resolve().parent / "openai-chat-completions.openapi.json"
_BASE: Final = "urn:openai-chat-completions"
REQUEST: Final = "CreateChatCompletionRequest"
CHUNK: Final = "CreateChatCompletionStreamResponse"
COMPLETION: Final = "CreateChatCompletionResponse"
# What tells the branches of a union apart: a message's ``role``, a content part's ``type``,
# each a one-value ``enum`` in OpenAI's schemas.
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
            for e in explain(error)
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
        return {"anyOf": [converted, NULL]}
    return converted
