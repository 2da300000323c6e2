"""Regenerate ``discord-requests.json`` from Discord's OpenAPI description.

    python devtools/standin/regenerate.py path/to/openapi.json

The source is ``specs/openapi.json`` of the public repository discord/discord-api-spec
(MIT licence). We keep only the request bodies of the operations our code calls, with every
component schema they reference, so the fake Discord can check each request body we send.

Where the OpenAPI description disagrees with Discord's documentation, the documentation wins;
those corrections are listed in ``CORRECTIONS`` and applied here, each with its reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = (
    "update_original_webhook_message",
    "delete_original_webhook_message",
    "execute_webhook",
    "update_webhook_message",
    "bulk_set_application_commands",
    "bulk_set_guild_application_commands",
    "create_message",
    "update_message",
    "create_interaction_response",
)

# (component, property path, replacement schema, reason)
CORRECTIONS: tuple[tuple[str, tuple[str, ...], dict[str, Any], str], ...] = (
    (
        "ApplicationCommandUpdateRequest",
        ("properties", "default_member_permissions"),
        {"type": ["string", "null"], "pattern": "^[0-9]{1,20}$"},
        "Discord's documentation: default_member_permissions is a bitfield as a string",
    ),
)


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") not in OPERATIONS:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations[op["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "schema": body.get("schema"),
            }
    missing = set(OPERATIONS) - set(operations)
    if missing:
        raise SystemExit(f"operations not in the spec: {sorted(missing)}")
    components = spec["components"]["schemas"]
    wanted: set[str] = set()
    _refs(operations, wanted)
    done: set[str] = set()
    while wanted - done:
        name = min(wanted - done)
        done.add(name)
        _refs(components[name], wanted)
    schemas = {name: components[name] for name in sorted(done)}
    for component, where, replacement, _reason in CORRECTIONS:
        node = schemas[component]
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = replacement
    return {
        "about": (
            "Request-body schemas from Discord's OpenAPI description (discord/discord-api-spec, "
            "specs/openapi.json, MIT licence), cut down to the operations this project calls. "
            "Regenerate with devtools/standin/regenerate.py."
        ),
        "source_version": spec.get("info", {}).get("version"),
        "corrections": [
            {"component": c, "at": "/".join(w), "reason": r} for c, w, _, r in CORRECTIONS
        ],
        "operations": operations,
        "components": {"schemas": schemas},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("discord-requests.json")
    target.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
