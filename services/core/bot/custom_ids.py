"""State in a component's ``custom_id``: declared as a template, read back as typed values.

    @bot.component("roll:{sides}")
    async def roll_again(ctx: CommandContext, sides: int) -> Update: ...

    Button("Roll again", custom_id=ctx.custom_id(roll_again, sides=20))   # "roll:1:20"

An id is ``name:version:field:field...``, and for a template declared ``signed=True`` one more
field, an HMAC-SHA256 of the rest under the key in ``CUSTOM_ID_SECRET`` (96 bits, base64url),
so a client cannot forge or alter the values. The version is the template's: bump it when a
template's fields change, and buttons still carrying the old layout are refused rather than
misread. Every id fits Discord's 100 characters (Discord docs, "Component Reference"), which
is checked for the fixed part at declaration and for the whole id when one is built.

Anything that does not decode (an unknown name, another version, a field that does not parse,
a missing or wrong signature) raises ``ExpiredCustomId``: the user is told the button has
expired, never shown an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from services.core.bot.errors import CommandDefinitionError, ExpiredCustomId
from services.core.discord.components import MAX_CUSTOM_ID

SEPARATOR: Final = ":"
# fullmatch everywhere: "$" would also match before a trailing newline.
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_FIELD: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INTEGER: Final = re.compile(r"-?[0-9]{1,20}")
_FLOAT: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?")
# 96 bits of HMAC-SHA256, as 16 base64url characters: beyond guessing, short enough to leave
# most of the 100 characters to the state.
MAC_CHARS: Final = 16
_FIELD_TYPES: Final = (int, str, bool, float)
_ESCAPED: Final = re.compile(r"%(25|3A)")
_UNESCAPE: Final = {"25": "%", "3A": SEPARATOR}


def _encode_value(value: Any, kind: type) -> str:
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {value!r}")
        return "1" if value else "0"
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected int, got {value!r}")
        return str(value)
    if kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"expected float, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"a custom_id holds finite numbers only, got {value!r}")
        return repr(float(value))
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {value!r}")
    # Only the separator and the escape character itself need escaping.
    return value.replace("%", "%25").replace(SEPARATOR, "%3A")


def _decode_value(text: str, kind: type) -> Any:
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if kind is int:
        if not _INTEGER.fullmatch(text):
            raise ValueError(text)
        return int(text)
    if kind is float:
        # What repr() writes for a finite float, and nothing else (no nan, inf, "1_0", "٣").
        if not _FLOAT.fullmatch(text):
            raise ValueError(text)
        return float(text)
    if re.search(r"%(?!25|3A)", text):
        raise ValueError(text)
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group(1)], text)


@dataclass(frozen=True, slots=True)
class Template:
    """One declared ``custom_id`` layout: a name, a version and typed fields."""

    name: str
    fields: tuple[str, ...]
    types: tuple[type, ...]
    version: int = 1
    signed: bool = False
    # Bound into the signature: a signed component's id does not pass as a modal's.
    scope: str = ""

    @classmethod
    def declare(
        cls,
        template: str,
        handler: Callable[..., Any],
        *,
        version: int,
        signed: bool,
        scope: str = "",
    ) -> Template:
        """Read ``"name:{field}:{field}"`` and type each field from the handler's parameter of
        the same name; anything Discord or the codec could not carry fails here, at import."""
        name, *rest = template.split(SEPARATOR)
        if not _NAME.fullmatch(name):
            raise CommandDefinitionError(
                f"custom_id template {template!r}: the name must be 1-40 letters, digits, '_-.'"
            )
        fields: list[str] = []
        for part in rest:
            found = _FIELD.fullmatch(part)
            if found is None:
                raise CommandDefinitionError(
                    f"custom_id template {template!r}: after the name, only {{field}} parts"
                )
            fields.append(found.group(1))
        if len(set(fields)) != len(fields):
            raise CommandDefinitionError(f"custom_id template {template!r} repeats a field")
        if version < 1:
            raise CommandDefinitionError(f"custom_id template {template!r}: version from 1")
        params = list(inspect.signature(handler).parameters)[1:]
        if set(params) != set(fields):
            raise CommandDefinitionError(
                f"{handler.__name__}: its parameters after the context {params} must be the "
                f"template's fields {fields}"
            )
        hints = typing.get_type_hints(handler)
        types: list[type] = []
        for name_ in fields:
            kind = hints.get(name_)
            if kind not in _FIELD_TYPES:
                raise CommandDefinitionError(
                    f"{handler.__name__}: field {name_!r} must be typed int, str, bool or float"
                )
            types.append(kind)
        made = cls(name, tuple(fields), tuple(types), version, signed, scope)
        # The fixed part, with one character per field, must leave Discord's limit unbroken.
        if made.fixed_length + len(fields) > MAX_CUSTOM_ID:
            raise CommandDefinitionError(
                f"custom_id template {template!r} cannot fit in {MAX_CUSTOM_ID} characters"
            )
        return made

    @property
    def fixed_length(self) -> int:
        """Characters every id of this template takes beside its field values."""
        head = len(self.name) + 1 + len(str(self.version))
        mac = 1 + MAC_CHARS if self.signed else 0
        return head + len(self.fields) + mac

    def encode(self, values: Mapping[str, Any], key: bytes | None) -> str:
        missing = set(self.fields) - set(values)
        extra = set(values) - set(self.fields)
        if missing or extra:
            raise TypeError(
                f"custom_id {self.name!r} takes {list(self.fields)}, got {sorted(values)}"
            )
        parts = [self.name, str(self.version)]
        parts += [_encode_value(values[f], t) for f, t in zip(self.fields, self.types, strict=True)]
        text = SEPARATOR.join(parts)
        if self.signed:
            if key is None:
                raise ExpiredCustomId(self.name, "signed ids need CUSTOM_ID_SECRET")
            text += SEPARATOR + _mac(key, self.scope, text)
        if len(text) > MAX_CUSTOM_ID:
            raise ValueError(
                f"custom_id {self.name!r} would be {len(text)} characters "
                f"(Discord allows {MAX_CUSTOM_ID}); carry less state in it"
            )
        return text

    def decode(self, custom_id: str, key: bytes | None) -> dict[str, Any]:
        parts = custom_id.split(SEPARATOR)
        if len(parts) < 2:
            raise ExpiredCustomId(self.name, "the template's name alone, without its fields")
        if parts[1] != str(self.version):
            raise ExpiredCustomId(self.name, "another version of this template")
        if self.signed:
            if key is None:
                raise ExpiredCustomId(self.name, "signed, and no CUSTOM_ID_SECRET to check it")
            signed_part, _, mac = custom_id.rpartition(SEPARATOR)
            if not hmac.compare_digest(mac.encode(), _mac(key, self.scope, signed_part).encode()):
                raise ExpiredCustomId(self.name, "signature does not match")
            parts = signed_part.split(SEPARATOR)
        values = parts[2:]
        if len(values) != len(self.fields):
            raise ExpiredCustomId(self.name, "wrong number of fields")
        try:
            return {
                f: _decode_value(v, t)
                for f, v, t in zip(self.fields, values, self.types, strict=True)
            }
        except ValueError:
            raise ExpiredCustomId(self.name, "a field does not parse") from None


def _mac(key: bytes, scope: str, text: str) -> str:
    digest = hmac.new(key, f"{scope}|{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def name_of(custom_id: str) -> str:
    """The template name an id starts with (what routing looks up)."""
    return custom_id.split(SEPARATOR, 1)[0]
