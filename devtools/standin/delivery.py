"""Discord's side of an interaction: deliver one to the bot, signed as Discord signs it, and
do with the answer what Discord does.

- ``deliver`` is the HTTP edge: it POSTs the JSON with ``X-Signature-Ed25519`` (hex of the
  Ed25519 signature of timestamp + body) and ``X-Signature-Timestamp``, gives up after
  Discord's 3 seconds, and reads a JSON answer or a multipart one (``payload_json`` and
  ``files[n]``: how an instant reply carries files, as hikari's interaction server sends it).
- ``check_answer`` says what Discord would refuse in a 200 answer: the
  ``create_interaction_response`` schema, an answer type the interaction does not take,
  attachments and uploaded files that do not name each other.
- ``apply_answer`` changes the stand-in's state as Discord would: a reply becomes the
  interaction's original message, a deferral a "thinking…" placeholder, an update (or deferred
  update) makes the clicked message the original of the click's token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import aiohttp
from nacl.signing import SigningKey

from devtools import interactions
from devtools.standin.multipart import (
    MAX_FILE_SIZE,
    MULTIPART,
    InvalidPayloadJson,
    UploadedFile,
    read_form,
    upload_problems,
)
from devtools.standin.schemas import Schemas
from devtools.standin.state import EPHEMERAL, LOADING, DiscordState
from services.core.discord.models import InteractionType, OptionType, ResponseType

# Discord waits this long for the first answer, then shows "The application did not respond".
RESPONSE_DEADLINE: Final = 3.0
ANSWER_OPERATION: Final = "create_interaction_response"
USER_AGENT: Final = "Discord-Interactions/1.0 (+https://discord.com)"
OK: Final = 200
_SUBCOMMANDS: Final = frozenset({OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP})

_COMPONENT_ANSWERS: Final = frozenset(
    {
        ResponseType.CHANNEL_MESSAGE_WITH_SOURCE,
        ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        ResponseType.DEFERRED_UPDATE_MESSAGE,
        ResponseType.UPDATE_MESSAGE,
    }
)
# Which answers Discord takes to which interaction (docs, "Interaction Callback Type"): PONG
# only to a PING; the two updates only where there is a message (a component's, or that of a
# modal opened from one); no modal in answer to a modal; choices only to autocomplete.
ANSWERS: Final[Mapping[int, frozenset[int]]] = {
    InteractionType.PING: frozenset({ResponseType.PONG}),
    InteractionType.APPLICATION_COMMAND: frozenset(
        {
            ResponseType.CHANNEL_MESSAGE_WITH_SOURCE,
            ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            ResponseType.MODAL,
        }
    ),
    InteractionType.MESSAGE_COMPONENT: _COMPONENT_ANSWERS | {ResponseType.MODAL},
    InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE: frozenset(
        {ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT}
    ),
    InteractionType.MODAL_SUBMIT: _COMPONENT_ANSWERS,
}


class NotConnectedError(RuntimeError):
    """``interact`` before ``connect``: the stand-in does not know the bot's endpoint."""

    def __init__(self) -> None:
        super().__init__(
            "the stand-in has no interactions endpoint to deliver to: "
            "call DiscordStandIn.connect(interactions_url, signing_key) first"
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The bot's interactions URL, and the key it knows as Discord's."""

    url: str
    key: SigningKey = field(repr=False)


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """How the bot answered one interaction."""

    status: int  # 0: no answer (nothing listening, or not within RESPONSE_DEADLINE)
    response: Any  # the JSON answer, or a multipart answer's payload_json; None without one
    files: tuple[UploadedFile, ...] = ()  # a multipart answer's files[n] parts
    elapsed: float = 0.0  # seconds, from sending to the answer read in full
    error: str | None = None  # why there was no answer
    # What Discord would refuse in a 200 answer; Discord shows "interaction failed" then.
    violations: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """Whether Discord would act on this answer."""
        return self.status == OK and not self.violations

    def summary(self) -> dict[str, Any]:
        """For ``POST /_fake/interactions``: JSON, with the files described, not included."""
        out: dict[str, Any] = {
            "status": self.status,
            "response": self.response,
            "elapsed_ms": round(self.elapsed * 1000, 1),
        }
        if self.files:
            out["files"] = [
                {"name": f.name, "filename": f.filename, "content_type": f.content_type}
                | {"size": len(f.data)}
                for f in self.files
            ]
        if self.violations:
            out["violations"] = list(self.violations)
        if self.error:
            out["error"] = self.error
        return out


async def deliver(
    session: aiohttp.ClientSession, endpoint: Endpoint, payload: Mapping[str, Any]
) -> InteractionResult:
    """POST the interaction, signed, and read the answer; never raises for the bot's failure."""
    body = interactions.encode(dict(payload))
    headers = {**interactions.sign(endpoint.key, body), "User-Agent": USER_AGENT}
    started = time.monotonic()
    try:
        async with session.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=RESPONSE_DEADLINE),
        ) as response:
            result = await _read_answer(response)
    except TimeoutError:
        result = InteractionResult(0, None, error=f"no answer within {RESPONSE_DEADLINE:g} s")
    except aiohttp.ClientError as exc:
        result = InteractionResult(0, None, error=f"the bot could not be reached: {exc!r}")
    return replace(result, elapsed=time.monotonic() - started)


async def _read_answer(response: aiohttp.ClientResponse) -> InteractionResult:
    status = response.status
    problems: list[str] = []
    files: tuple[UploadedFile, ...] = ()
    if response.content_type == MULTIPART:
        try:
            form = await read_form(aiohttp.MultipartReader(response.headers, response.content))
        except InvalidPayloadJson as exc:
            problems.append(str(exc))
            answer = None
        except ValueError as exc:  # no boundary, a broken part
            problems.append(f"(body): not a readable multipart body ({exc})")
            answer = None
        else:
            answer, files = form.payload, form.files
            problems.extend(form.problems)
            problems.extend(
                f"{name}: {size} bytes, over Discord's {MAX_FILE_SIZE} byte limit"
                for name, size in form.too_large
            )
    else:
        raw = await response.read()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
            problems.append(f"(body): not JSON ({response.content_type}, {len(raw)} bytes)")
    # Only a 200 is an answer Discord reads; any other status fails the interaction as it is.
    return InteractionResult(
        status, answer, files, violations=tuple(problems) if status == OK else ()
    )


def check_answer(
    schemas: Schemas,
    state: DiscordState,
    payload: Mapping[str, Any],
    result: InteractionResult,
) -> InteractionResult:
    """``result`` with every reason Discord would refuse its answer among its violations."""
    if result.status != OK:
        return result
    answer = result.response
    problems = list(result.violations)
    if answer is not None or not problems:  # an unreadable answer is said once, not twice
        problems.extend(schemas.errors(ANSWER_OPERATION, answer))
    if isinstance(answer, dict):
        kind, asked = answer.get("type"), payload.get("type")
        allowed = ANSWERS.get(asked) if isinstance(asked, int) else None
        if allowed is not None and kind not in allowed:
            problems.append(f"type: {kind} is not an answer to an interaction of type {asked}")
        existing: set[str] = set()
        seen = payload.get("message")
        if kind == ResponseType.UPDATE_MESSAGE and isinstance(seen, Mapping):
            # An update may keep the clicked message's attachments by id.
            existing = state.attachment_ids(state.messages.get(str(seen.get("id"))) or seen)
        problems.extend(upload_problems(answer.get("data"), result.files, existing))
    elif result.files:
        problems.extend(upload_problems(None, result.files))
    return replace(result, violations=tuple(problems))


def apply_answer(
    state: DiscordState,
    payload: Mapping[str, Any],
    answer: Mapping[str, Any],
    files: Sequence[UploadedFile] = (),
) -> tuple[str, dict[str, Any] | None] | None:
    """Do what Discord does with an accepted answer; return the event to show (its kind and
    the message, or the answer's data for a modal or choices), or None for a PONG."""
    token = payload.get("token")
    if not isinstance(token, str):
        return None
    interaction = state.state(token)
    interaction.interaction = dict(payload)
    interaction.response = dict(answer)
    kind = answer.get("type")
    data: Mapping[str, Any] = answer.get("data") or {}
    match kind:
        case ResponseType.CHANNEL_MESSAGE_WITH_SOURCE:
            message = state.create(
                data,
                files=files,
                channel_id=_channel(payload),
                interaction=interaction_metadata(state, payload),
            )
            state.make_original(token, message)
            return "reply", message
        case ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
            message = state.create(
                {"flags": flags},
                channel_id=_channel(payload),
                interaction=interaction_metadata(state, payload),
            )
            state.make_original(token, message)
            return "deferred", message
        case ResponseType.DEFERRED_UPDATE_MESSAGE | ResponseType.UPDATE_MESSAGE:
            seen = payload.get("message")
            if not isinstance(seen, Mapping):
                return None  # a modal from a command has no message to update
            message = state.known(seen)
            state.make_original(token, message)
            if kind == ResponseType.DEFERRED_UPDATE_MESSAGE:
                return "deferred", message
            state.edit(message, data, files=files)
            return "update", message
        case ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            interaction.choices = list(data.get("choices") or [])
            return "autocomplete", dict(data)
        case ResponseType.MODAL:
            interaction.modal = {k: data.get(k) for k in ("custom_id", "title", "components")}
            return "modal", interaction.modal
    return None


def interaction_metadata(state: DiscordState, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a reply says of the interaction it answers (the message's ``interaction``):
    Discord's client shows it above the reply as "<user> used /<command>"; a form's answer
    names the command that opened the form."""
    member = payload.get("member")
    who = member.get("user") if isinstance(member, Mapping) else payload.get("user")
    data = payload.get("data")
    if payload.get("type") == InteractionType.MODAL_SUBMIT and isinstance(data, Mapping):
        opener = state.opened_modal(data.get("custom_id"))
        if opener is not None:
            data = opener.get("data")
    words = []
    while isinstance(data, Mapping) and isinstance(data.get("name"), str):
        # The name includes the subcommand group and subcommand ("config show"), as Discord's.
        words.append(data["name"])
        options = data.get("options")
        data = options[0] if isinstance(options, list) and options else None
        if not isinstance(data, Mapping) or data.get("type") not in _SUBCOMMANDS:
            break
    return {
        "id": payload.get("id"),
        "type": payload.get("type"),
        "name": " ".join(words),
        "user": who,
    }


def _channel(payload: Mapping[str, Any]) -> str:
    channel = payload.get("channel")
    if isinstance(channel, Mapping) and channel.get("id"):
        return str(channel["id"])
    return str(payload.get("channel_id") or interactions.DEV_CHANNEL_ID)
