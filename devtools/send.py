"""Send a signed interaction to a running API, as Discord would.

    python -m devtools.send ping
    python -m devtools.send countdown seconds=10
    python -m devtools.send admin settings show key=lang      (subcommands: words first)
    python -m devtools.send --ping                             (a PING)
    python -m devtools.send --admin config show                (as a server administrator)

Signs with the local development key that ``make run`` created in ``.local/dev.json``.
Option values are converted using the command's own declaration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from devtools import interactions
from devtools.local import dev_identity
from services.core.bot.errors import UnknownCommandError
from services.core.bot.options import OptionSpec
from services.core.discord.models import OptionType, Permissions

_CONVERT: dict[OptionType, Callable[[str], Any]] = {
    OptionType.INTEGER: int,
    OptionType.NUMBER: float,
    OptionType.BOOLEAN: lambda v: v.lower() in {"1", "true", "yes", "on"},
}


def _typed(spec: OptionSpec | None, raw: str) -> Any:
    if spec is None:
        return raw
    convert = _CONVERT.get(spec.type)
    return convert(raw) if convert else raw


def build(
    words: list[str], application_id: str, *, guild: bool, admin: bool = False
) -> dict[str, Any]:
    from services.commands import bot

    path = [w for w in words if "=" not in w]
    pairs = [w.split("=", 1) for w in words if "=" in w]
    if not path:
        raise SystemExit("name a command, e.g. `ping`")
    try:
        specs = {s.name: s for s in bot.get(" ".join(path)).options}
    except UnknownCommandError:
        specs = {}  # unknown here: send it anyway and see what the API says
    options: list[dict[str, Any]] = []
    for name, raw in pairs:
        spec = specs.get(name)
        kind = int(spec.type) if spec else int(OptionType.STRING)
        options.append({"name": name, "type": kind, "value": _typed(spec, raw)})
    for depth, word in reversed(list(enumerate(path[1:], start=1))):
        kind = OptionType.SUB_COMMAND if depth == len(path) - 1 else OptionType.SUB_COMMAND_GROUP
        options = [{"type": int(kind), "name": word, "options": options}]
    return interactions.command(
        application_id,
        path[0],
        options,
        guild_id=interactions.DEV_GUILD_ID if guild else None,
        permissions=int(Permissions.ADMINISTRATOR) if admin else 0,
    )


async def send(url: str, key: SigningKey, payload: dict[str, Any]) -> int:
    body = interactions.encode(payload)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=interactions.sign(key, body)) as response,
    ):
        text = await response.text()
        print(f"HTTP {response.status}")
        try:
            print(json.dumps(json.loads(text), indent=2))
        except ValueError:
            print(text)
        return 0 if response.status < 400 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", help="command path and name=value options")
    parser.add_argument("--url", default="http://127.0.0.1:8080/interactions")
    parser.add_argument("--ping", action="store_true", help="send a PING instead")
    parser.add_argument("--dm", action="store_true", help="as if sent in a DM, not a server")
    parser.add_argument("--admin", action="store_true", help="as a server administrator")
    args = parser.parse_args(argv)
    identity = dev_identity()
    key = SigningKey(bytes.fromhex(identity["signing_key"]))
    if args.ping:
        payload = interactions.ping(identity["application_id"])
    else:
        payload = build(args.words, identity["application_id"], guild=not args.dm, admin=args.admin)
    try:
        return asyncio.run(send(args.url, key, payload))
    except aiohttp.ClientConnectionError:
        print(f"nothing answers at {args.url}: is `make run` running?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
