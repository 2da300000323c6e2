"""Send an interaction to a running API, as Discord would: every kind.

    python -m devtools.send ping                                   a slash command
    python -m devtools.send countdown seconds=10                   ... with options
    python -m devtools.send --admin config set key=reminder value="Stand-up"  (subcommands first)
    python -m devtools.send --complete help command=co             autocomplete, on the last option
    python -m devtools.send --user "User info" --target 900000000000000003
    python -m devtools.send --message "Word count" --text "how many words is this"
    python -m devtools.send --click roll                           the newest button named roll…
    python -m devtools.send --click colour:1 --values red,blue      a select menu
    python -m devtools.send --modal feedback text="Nice bot"       the newest modal named feedback…
    python -m devtools.send ask prompt="What is this?" file=notes.txt   a file, as an attachment
    python -m devtools.send --ping                                 a PING
    python -m devtools.send --admin config show                    as a server administrator
    python -m devtools.send --dm ping                              in a DM, not a server

With ``make run``'s Discord stand-in running, the interaction goes through it: it signs and
delivers it as Discord does, checks the answer against Discord's schema and applies it, so
clicks and edits land on the messages it shows. ``--direct`` signs and posts to the API
yourself. Either way it signs with the development key in ``.local/dev.json``. Option values
are converted using the command's own declaration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from nacl.signing import SigningKey

from devtools import interactions
from devtools.local import STATE_DIR, dev_identity
from devtools.standin.guard import HEADERS
from services.core.bot.errors import UnknownCommandError
from services.core.bot.options import OptionSpec
from services.core.discord.components import ComponentType
from services.core.discord.models import InteractionType, OptionType, Permissions

_CONVERT: dict[OptionType, Callable[[str], Any]] = {
    OptionType.INTEGER: int,
    OptionType.NUMBER: float,
    OptionType.BOOLEAN: lambda v: v.lower() in {"1", "true", "yes", "on"},
}


def _typed(spec: OptionSpec | None, raw: str) -> Any:
    if spec is None:
        return raw
    convert = _CONVERT.get(spec.type)
    try:
        return convert(raw) if convert else raw
    except ValueError:
        return raw  # sent as typed: the API's answer says what is wrong with it


def _split(words: list[str]) -> tuple[list[str], list[list[str]]]:
    path = [w for w in words if "=" not in w]
    pairs = [w.split("=", 1) for w in words if "=" in w]
    return path, pairs


def _options(words: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The command name and Discord's nested options for ``path... name=value...``."""
    from services.core.bot.loader import load_bot

    path, pairs = _split(words)
    if not path:
        raise SystemExit("name a command, e.g. `ping`")
    router = load_bot().router
    try:
        specs = {s.name: s for s in router.get(" ".join(path)).options}
    except UnknownCommandError:
        known = ", ".join(sorted(c.path for c in router.commands()))
        raise SystemExit(
            f"the bot has no command `/{' '.join(path)}`; it has: {known}\n"
            "(subcommands come as words: `config show`; options as name=value)"
        ) from None
    options: list[dict[str, Any]] = []
    for name, raw in pairs:
        spec = specs.get(name)
        kind = int(spec.type) if spec else int(OptionType.STRING)
        options.append({"name": name, "type": kind, "value": _typed(spec, raw)})
    for depth, word in reversed(list(enumerate(path[1:], start=1))):
        kind = OptionType.SUB_COMMAND if depth == len(path) - 1 else OptionType.SUB_COMMAND_GROUP
        options = [{"type": int(kind), "name": word, "options": options}]
    return path[0], options


# What Discord computes for an ordinary member in an ordinary channel: they see it, write
# in it and read its history.
MEMBER_PERMISSIONS = int(
    Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES | Permissions.READ_MESSAGE_HISTORY
)


def _permissions(admin: bool) -> int:
    return int(Permissions.ADMINISTRATOR) | MEMBER_PERMISSIONS if admin else MEMBER_PERMISSIONS


def build(
    words: list[str],
    application_id: str,
    *,
    guild: bool,
    admin: bool = False,
    resolved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A slash command interaction from the CLI's words."""
    name, options = _options(words)
    return interactions.command(
        application_id,
        name,
        options,
        guild_id=interactions.DEV_GUILD_ID if guild else None,
        permissions=_permissions(admin),
        resolved=resolved,
    )


async def _attach(words: list[str], base: str | None) -> tuple[list[str], dict[str, Any] | None]:
    """``name=path`` for an attachment option: the file goes to the stand-in, which serves
    it as Discord's CDN would, and the option takes its attachment id."""
    from services.core.bot.loader import load_bot

    path, pairs = _split(words)
    try:
        specs = {s.name: s for s in load_bot().router.get(" ".join(path)).options}
    except UnknownCommandError:
        return words, None
    attached: dict[str, Any] = {}
    out = list(path)
    for name, raw in pairs:
        spec = specs.get(name)
        if spec is None or spec.type is not OptionType.ATTACHMENT:
            out.append(f"{name}={raw}")
            continue
        if base is None:
            raise SystemExit("attaching a file needs `make run`'s Discord stand-in")
        file = Path(raw)
        if not file.is_file():
            raise SystemExit(f"{name}: no file at {raw}")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{base}/_fake/files",
                params={"filename": file.name},
                data=file.read_bytes(),
                headers={"Content-Type": content_type, **HEADERS},
            ) as response,
        ):
            answer = await response.json(content_type=None)
        if response.status != 200:
            raise SystemExit(f"{name}: {answer.get('error', answer)}")
        attachment = answer
        attached[attachment["id"]] = attachment
        out.append(f"{name}={attachment['id']}")
    return out, {"attachments": attached} if attached else None


def _standin_url() -> str | None:
    """The running stand-in's base URL, as ``make run`` recorded it."""
    try:
        env = json.loads((STATE_DIR / "env.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    api = env.get("DISCORD_API_URL", "")
    return api.rsplit("/api/", 1)[0] if env.get("STANDIN") and "/api/" in api else None


async def _message_with(
    session: aiohttp.ClientSession, base: str | None, custom_id: str
) -> tuple[Any, str]:
    """The stand-in's newest message carrying ``custom_id`` (or one starting with it: the
    template's name is enough), so a click lands on it, and the component's whole id."""
    if base is None:
        return None, custom_id
    async with session.get(f"{base}/_fake/messages", params={"custom_id": custom_id}) as got:
        if got.status != 200:
            return None, custom_id
        found = await got.json()
        return found["message"], found["custom_id"]


async def compose(args: argparse.Namespace, application_id: str, base: str | None) -> Any:
    guild_id = None if args.dm else interactions.DEV_GUILD_ID
    permissions = _permissions(args.admin)
    if args.ping:
        return interactions.ping(application_id)
    if args.user:
        target = interactions.user(args.target or interactions.DEV_USER_ID, args.target_name)
        return interactions.user_command(
            application_id, args.user, target=target, guild_id=guild_id, permissions=permissions
        )
    if args.message:
        target = interactions.channel_message(args.text or "")
        return interactions.message_command(
            application_id, args.message, target=target, guild_id=guild_id, permissions=permissions
        )
    if args.click:
        async with aiohttp.ClientSession() as session:
            message, custom_id = await _message_with(session, base, args.click)
        if message is None:
            print(
                f"no message the bot sent carries {args.click!r} (yet?): clicking it on a "
                "made-up message; the reply will not land on a real one",
                file=sys.stderr,
            )
        values = args.values.split(",") if args.values is not None else None
        return interactions.click(
            application_id,
            custom_id,
            message=message,
            component_type=ComponentType.STRING_SELECT if values is not None else 2,
            values=values,
            guild_id=guild_id,
            permissions=permissions,
        )
    if args.modal:
        _, pairs = _split(args.words)
        modal = args.modal
        if base is not None:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{base}/_fake/modals", params={"custom_id": modal}) as found,
            ):
                if found.status == 200:
                    modal = (await found.json())["custom_id"]
        return interactions.modal_submit(
            application_id,
            modal,
            dict(pairs),
            guild_id=guild_id,
            permissions=permissions,
        )
    if args.complete:
        payload = build(args.words, application_id, guild=not args.dm, admin=args.admin)
        payload["type"] = int(InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE)
        leaf = payload["data"]["options"]
        while leaf and leaf[0]["type"] in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
            leaf = leaf[0]["options"]
        if leaf:
            leaf[-1]["focused"] = True  # what the user is typing now
        return payload
    words, resolved = await _attach(args.words, base)
    return build(words, application_id, guild=not args.dm, admin=args.admin, resolved=resolved)


async def send_direct(url: str, key: SigningKey, payload: dict[str, Any]) -> int:
    body = interactions.encode(payload)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=interactions.sign(key, body)) as response,
    ):
        text = await response.text()
        print(f"HTTP {response.status}")
        try:
            answer = json.loads(text)
        except ValueError:
            print(text)
        else:
            print(json.dumps(answer, indent=2, ensure_ascii=False))
            _hint(answer)
        return 0 if response.status < 400 else 1


async def send_via_standin(base: str, payload: dict[str, Any]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/_fake/interactions", json=payload, headers=HEADERS) as response,
    ):
        summary = await response.json(content_type=None)
    if response.status != 200:
        print(summary.get("error", summary), file=sys.stderr)
        return 1
    print(f"HTTP {summary['status']} in {summary['elapsed_ms']} ms")
    print(json.dumps(summary.get("response"), indent=2, ensure_ascii=False))
    for problem in summary.get("violations", []):
        print(f"Discord would refuse this answer: {problem}", file=sys.stderr)
    if summary.get("error"):
        print(summary["error"], file=sys.stderr)
    _hint(summary.get("response"))
    ok = summary["status"] == 200 and not summary.get("violations")
    return 0 if ok else 1


def _hint(response: Any) -> None:
    """What a developer most likely needs to do when the API does not know the command."""
    content = (response or {}).get("data", {}).get("content", "") if response else ""
    if isinstance(content, str) and "isn't available any more" in content:
        print(
            "the running API does not know this command: restart `make run` after changing "
            "the bot's code (it is loaded when the API starts)",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("words", nargs="*", help="command path and name=value options")
    parser.add_argument("--url", default="http://127.0.0.1:8080/interactions")
    parser.add_argument("--direct", action="store_true", help="post to the API, not the stand-in")
    parser.add_argument("--ping", action="store_true", help="send a PING instead")
    parser.add_argument("--dm", action="store_true", help="as if sent in a DM, not a server")
    parser.add_argument("--admin", action="store_true", help="as a server administrator")
    parser.add_argument("--complete", action="store_true", help="autocomplete the last option")
    parser.add_argument("--user", metavar="NAME", help="a user context-menu command")
    parser.add_argument("--target", metavar="USER_ID", help="the user it is run on")
    parser.add_argument("--target-name", default="someone", help="that user's username")
    parser.add_argument("--message", metavar="NAME", help="a message context-menu command")
    parser.add_argument("--text", help="the text of the message it is run on")
    parser.add_argument("--click", metavar="CUSTOM_ID", help="click a button (or a select)")
    parser.add_argument("--values", help="comma-separated values chosen in a select menu")
    parser.add_argument(
        "--modal", metavar="CUSTOM_ID", help="submit a modal (or the newest of that name), k=v"
    )
    args = parser.parse_args(argv)
    identity = dev_identity()
    base = None if args.direct else _standin_url()
    payload = asyncio.run(compose(args, identity["application_id"], base))
    try:
        if base is not None:
            return asyncio.run(send_via_standin(base, payload))
        key = SigningKey(bytes.fromhex(identity["signing_key"]))
        return asyncio.run(send_direct(args.url, key, payload))
    except aiohttp.ClientConnectionError:
        where = base or args.url
        print(f"nothing answers at {where}: is `make run` running?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
